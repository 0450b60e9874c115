-- The areas the marts report on (int_partnership_area), one row each: the star
-- schema's area dimension.
with

partnership_area as (

    select * from {{ ref('int_partnership_area') }}

),

final as (

    select
        area_code as area_key,
        area_code,
        area_name,
        is_home_area

    from partnership_area

)

select * from final
