-- Partner returns: the current return (latest delivery) for each measure series
-- and quarter.  A nil return is a reported 0; a rate may come as numerator and
-- denominator only.  A not_available row is a declared gap.  For a series the
-- warehouse computes from records (1.1 police, 1.2, ...) only such declarations
-- are used (is_value_source false): the records decide the value.
with

returns as (

    select * from {{ ref('stg_partners__returns') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

valued as (

    select
        returns.*,
        catalogue.method = 'partner_return' as is_value_source,
        case
            when returns.return_status = 'nil_return' then 0
            when returns.return_status = 'reported'
                then coalesce(
                    returns.value,
                    {{ safe_pct('returns.numerator', 'returns.denominator') }}
                )
        end as return_value

    from returns
    inner join catalogue
        on {{ same_series('returns', 'catalogue') }}

),

final as (

    select
        measure_id,
        series,
        fiscal_year,
        quarter,
        return_value as value,
        numerator,
        denominator,
        3 as months_expected,
        case when return_value is not null then 3 else 0 end as months_received,
        case
            when return_value is not null then first_value_delivered_at
            else delivered_at
        end as received_at,
        'partner_returns' as source,
        false as is_approximation,
        return_status,
        return_note,
        agency,
        is_value_source

    from valued

)

select * from final
