-- The internal ledger's payments booked in [start, end) (UTC): one business date's ledger side.
-- Parameters: start, end (timestamptz). Read by SqlToStagingOperator.
SELECT payment_id, processor, processor_reference, amount, currency, fee, status, booked_at
FROM ledger.payments
WHERE booked_at >= %(start)s AND booked_at < %(end)s
ORDER BY processor, payment_id, booked_at
