-- The caveats and context notes the report prints beside a series (seed report_notes),
-- for the home area (the published report is its plan).
with

notes as (

    select * from {{ ref('report_notes') }}

),

home_area as (

    select * from {{ ref('int_partnership_area') }}
    where is_home_area

),

final as (

    select
        {{ measure_key('home_area.area_code', 'notes.measure_id', 'notes.series') }}
            as measure_key,
        {{ quarter_key_of('notes.fiscal_year', 'notes.quarter') }} as quarter_key,
        home_area.area_code as area_key,
        home_area.area_code,
        notes.measure_id,
        notes.series,
        notes.fiscal_year,
        notes.quarter,
        notes.kind,
        notes.note

    from notes
    cross join home_area

)

select * from final
