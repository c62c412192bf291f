"""camt.053: every version .02 to .08 reads back as written; a published-style literal sample
(a batch entry split into its transactions); XML bombs and external entities refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import StatementFileError
from recon.statements import read_statement_file
from worlds.statements import sample_statements, write_camt053

# Shaped like the ISO 20022 / SEPA implementation-guide examples.
LITERAL = """\
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>AAAASESS-FP-STAT001</MsgId><CreDtTm>2010-10-18T17:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>AAAASESS-FP-STAT001</Id>
      <ElctrncSeqNb>101</ElctrncSeqNb>
      <CreDtTm>2010-10-18T17:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>SE1150000000058398257466</IBAN></Id><Ccy>SEK</Ccy></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="SEK">500000</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2010-10-15</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="SEK">435678.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2010-10-18</Dt></Dt>
      </Bal>
      <Ntry>
        <Amt Ccy="SEK">105678.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2010-10-18</Dt></BookgDt><ValDt><Dt>2010-10-18</Dt></ValDt>
        <AcctSvcrRef>AAAASESS-FP-CN98765</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>MUELL/FINP/RA12345</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>MUELLER</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>Invoice 4711</Ustrd><Ustrd>and 4712</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="SEK">200000</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2010-10-18</Dt></BookgDt><ValDt><Dt>2010-10-19</Dt></ValDt>
        <AcctSvcrRef>AAAASESS-FP-ACCR002</AcctSvcrRef>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>BATCH-1</AcctSvcrRef><EndToEndId>E2E-1</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="SEK">150000</Amt></TxAmt></AmtDtls>
            <RltdPties><Cdtr><Nm>Supplier One</Nm></Cdtr></RltdPties>
          </TxDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>BATCH-2</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="SEK">50000</Amt></TxAmt></AmtDtls>
            <RltdPties><Cdtr><Nm>Supplier Two</Nm></Cdtr></RltdPties>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="SEK">30000</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>
        <Sts>BOOK</Sts><BookgDt><DtTm>2010-10-18T10:15:00</DtTm></BookgDt>
        <AcctSvcrRef>AAAASESS-FP-RV1</AcctSvcrRef>
        <AddtlNtryInf>Return of a direct debit</AddtlNtryInf>
      </Ntry>
    </Stmt>
    <Stmt>
      <Id>AAAASESS-FP-STAT002</Id>
      <Acct><Id><Othr><Id>58398257466</Id></Othr></Id></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="SEK">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2010-10-18</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="SEK">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2010-10-19</Dt></Dt>
      </Bal>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def write(tmp_path: Path, data: str | bytes, name: str = "stmt.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("version", range(2, 9), ids=lambda v: f"camt.053.001.{v:02d}")
def test_every_version_reads_back_as_written(tmp_path: Path, version: int) -> None:
    sample = sample_statements(version, accounts=2, days=3)
    path = write(tmp_path, write_camt053(sample.statements, version=version))
    assert read_statement_file(path) == sample.expected_statements("camt053", str(path))


def test_published_style_literal_sample(tmp_path: Path) -> None:
    first, second = read_statement_file(write(tmp_path, LITERAL))
    assert (first.account, first.statement_id, first.currency) == (
        "SE1150000000058398257466",
        "AAAASESS-FP-STAT001",
        "SEK",
    )
    assert (first.opening_balance, first.closing_balance) == (
        Decimal("500000"),
        Decimal("435678.50"),
    )
    assert (first.opening_date, first.closing_date) == (
        dt.date(2010, 10, 15),
        dt.date(2010, 10, 18),
    )
    credit, one, two, reversal = first.lines
    assert credit.amount == Decimal("105678.50")
    assert credit.end_to_end_id == "MUELL/FINP/RA12345"
    assert credit.counterparty == "MUELLER"  # money in: the debtor
    assert credit.description == "Invoice 4711 and 4712"
    assert credit.bank_reference == "AAAASESS-FP-CN98765"
    assert credit.transaction_code == "PMNT-RCDT-ESCT"
    assert credit.source_line == 21
    # a batch entry splits into its transactions, each signed like the entry
    assert [(x.amount, x.counterparty, x.bank_reference) for x in (one, two)] == [
        (Decimal("-150000"), "Supplier One", "BATCH-1"),
        (Decimal("-50000"), "Supplier Two", "BATCH-2"),
    ]
    assert (one.end_to_end_id, two.end_to_end_id) == ("E2E-1", None)  # NOTPROVIDED
    assert one.value_date == dt.date(2010, 10, 19)
    assert (reversal.amount, reversal.reversal, reversal.booking_date) == (
        Decimal("30000"),
        True,
        dt.date(2010, 10, 18),
    )
    assert reversal.value_date == reversal.booking_date  # no ValDt: the booking date
    assert reversal.description == "Return of a direct debit"
    assert (second.account, second.opening_balance, second.lines) == (
        "58398257466",
        Decimal("-10.00"),
        (),
    )


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>
"""


def test_xml_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(write(tmp_path, BOMB))
    assert "DTD" in str(caught.value) and "stmt.xml" in str(caught.value)
    assert "lollol" not in str(caught.value)


def test_external_entity_is_refused_and_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    xxe = LITERAL.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>',
    ).replace("<Id>AAAASESS-FP-STAT001</Id>", "<Id>&x;</Id>")
    with pytest.raises(StatementFileError, match="DTD") as caught:
        read_statement_file(write(tmp_path, xxe))
    assert "TOP-SECRET" not in str(caught.value)


def test_truncated_document_names_the_line(tmp_path: Path) -> None:
    cut = LITERAL[: LITERAL.index("<Ntry>", LITERAL.index("<Ntry>") + 1) + 20]
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(write(tmp_path, cut))
    assert "not well-formed XML" in str(caught.value)
    assert caught.value.line is not None and caught.value.line >= 29
    assert "truncated" in str(caught.value)


def test_other_namespace_is_refused(tmp_path: Path) -> None:
    camt052 = LITERAL.replace("camt.053.001.02", "camt.052.001.02")
    with pytest.raises(StatementFileError, match=r"not camt\.053 \.02 to \.08"):
        read_statement_file(write(tmp_path, camt052))


def test_missing_closing_balance_names_the_statement(tmp_path: Path) -> None:
    text = LITERAL.replace("<Cd>CLBD</Cd>", "<Cd>ITBD</Cd>", 1)
    with pytest.raises(StatementFileError) as caught:
        read_statement_file(write(tmp_path, text))
    message = str(caught.value)
    assert "AAAASESS-FP-STAT001" in message and "closing (CLBD)" in message
    assert caught.value.line == 6


def test_bad_amount_names_its_line(tmp_path: Path) -> None:
    text = LITERAL.replace('<Amt Ccy="SEK">200000</Amt>', '<Amt Ccy="SEK">2O0000</Amt>')
    with pytest.raises(StatementFileError, match=r"line 33: Amt `2O0000` is not a number"):
        read_statement_file(write(tmp_path, text))


def test_batch_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    text = LITERAL.replace('<Amt Ccy="SEK">50000</Amt>', '<Amt Ccy="SEK">40000</Amt>')
    with pytest.raises(StatementFileError, match="splits into transactions summing to -190000"):
        read_statement_file(write(tmp_path, text))


def test_batch_in_another_currency_stays_one_entry(tmp_path: Path) -> None:
    text = LITERAL.replace('<TxAmt><Amt Ccy="SEK">', '<TxAmt><Amt Ccy="EUR">')
    first, _ = read_statement_file(write(tmp_path, text))
    assert [line.amount for line in first.lines] == [
        Decimal("105678.50"),
        Decimal("-200000"),
        Decimal("30000"),
    ]
    assert first.lines[1].bank_reference == "AAAASESS-FP-ACCR002"  # the entry's own reference
