-- The one local authority this warehouse reports on, resolved from var `area`
-- (CSP_AREA: a code or a name of the local_authorities seed, or `all`).
with

local_authorities as (

    select * from {{ ref('local_authorities') }}

),

configured as (

    select
        area_code,
        area_name

    from local_authorities
    where
        {{ in_partnership_area('area_code', 'area_name') }}
        and lower('{{ var("area") }}') <> 'all'

    union all

    select
        'all' as area_code,
        'All areas' as area_name

    where lower('{{ var("area") }}') = 'all'

)

select * from configured
