{{
    config(
        materialized='incremental',
        unique_key='load_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- police.uk street-level rows counted per load, force, month, local authority and
-- crime type: the one model that reads raw.policeuk_street (about 8 million rows a
-- year nationally); everything downstream works on these counts.  A load's rows
-- never change once loaded, so the model is incremental on the load: a run adds
-- the loads loaded since the last run and leaves the others as they are.  Which
-- loads count (as of, superseded by a correction, the latest per force and month)
-- is decided downstream on the counts (base_policeuk__street_counts), so a
-- correction only adds its own load here and the superseded load drops out there.
with

source as (

    select * from {{ source('raw', 'policeuk_street') }}
    {% if is_incremental() -%}
        -- load ids come from one sequence: loads after the last one counted
        where
            _load_id > (
                select coalesce(max(counted.load_id), -1) as last_load_id
                from {{ this }} as counted
            )
    {%- endif %}

),

counted as (

    select
        _load_id as load_id,
        falls_within,
        month as record_month,
        area_code,
        area_name,
        crime_type,
        count(*) as record_count

    from source
    group by _load_id, falls_within, month, area_code, area_name, crime_type

)

select * from counted
