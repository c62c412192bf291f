-- The ledger's orders booked on one business date (UTC day): a config recon's ledger side.
-- Parameter: business_date (ISO date, bound by the driver). Read by SqlToStagingOperator for
-- config/recons/orders_s3_vs_ledger.yaml.
SELECT order_id, amount, currency, status, booked_at
FROM ledger.orders
WHERE booked_at >= %(business_date)s::date
  AND booked_at < %(business_date)s::date + 1
ORDER BY order_id, booked_at
