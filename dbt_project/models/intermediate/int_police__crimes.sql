-- Police recorded crimes from one source per month (int_police_month_sources): the
-- force extract where it covers the month, police.uk counts otherwise (macro
-- police_records, shared with int_police__asb_incidents).
{{ police_records(
    'crime',
    'stg_police__recorded_crimes',
    'stg_policeuk__crimes',
    month_column='recorded_month',
    columns=[
        'crime_ref', 'recorded_on', 'recorded_month', 'offence_group',
        'victim_hash', 'victim_type', 'premises_type',
    ],
) }}
