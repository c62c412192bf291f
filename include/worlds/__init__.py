"""Generated worlds for tests, the demo and benchmarks: never part of the core (its wheel ships
none of this).

- ``pairs``: a processor export against a ledger, every kind of break planted, with its truth;
- ``aum``: CAMS and KARVY registrar holdings (DBF) against a MongoDB ledger;
- ``payments``: a payments day at Stripe, PayPal and Square against the internal ledger;
- ``processor_records``: those payments in each processor's own API shape;
- ``dbf_write``: dBase files written the way the registrars' systems write them;
- ``fixtures``: pytest module fixtures of those worlds (a payments day);
- ``outcomes``, ``classified``, ``snapshots``: made-up aum_recon outcomes, classified (payments)
  results and the payments snapshots' columns, for the tests of what reads them;
- ``checks``: checks in a fresh interpreter (what an import loads; a project script run).
"""
