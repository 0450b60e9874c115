-- Police ASB incidents from one source per month (int_police_month_sources): the
-- force extract where it covers the month, police.uk counts otherwise (macro
-- police_records, shared with int_police__crimes).
{{ police_records(
    'asb',
    'stg_police__asb_incidents',
    'stg_policeuk__asb_incidents',
    month_column='reported_month',
    columns=['incident_ref', 'reported_on', 'reported_month', 'asb_category'],
    after_count=['caller_hash'],
) }}
