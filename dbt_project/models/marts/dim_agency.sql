-- The agencies that own series and returns (seed agencies), one row each.
with

agencies as (

    select * from {{ ref('agencies') }}

),

final as (

    select
        agency_code as agency_key,
        agency_code,
        agency_name,
        owner,
        is_joint

    from agencies

)

select * from final
