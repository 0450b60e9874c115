with

source as (

    select * from {{ source('raw', 'load_log') }}

),

renamed as (

    select
        load_id,
        feed as feed_name,
        file_name,
        sha256 as file_sha256,
        size_bytes,
        coalesce(received_at, loaded_at) as received_at,
        cast(coalesce(received_at, loaded_at) as date) as received_on,
        loaded_at,
        rows_read,
        rows_loaded,
        rows_outside_area,
        period_start,
        period_end,
        scope as load_scope,
        status as load_status,
        error as error_message,
        notes as load_notes,
        superseded_by as superseded_by_load_id

    from source

),

as_of_view as (

    select
        renamed.*,
        superseding.received_on as superseded_on,
        renamed.load_status in ('loaded', 'superseded')
        and renamed.received_on <= {{ as_of_date() }} as is_delivered,
        renamed.load_status in ('loaded', 'superseded')
        and renamed.received_on <= {{ as_of_date() }}
        and (
            superseding.load_id is null
            or superseding.received_on > {{ as_of_date() }}
        ) as is_usable

    from renamed
    left join renamed as superseding
        on renamed.superseded_by_load_id = superseding.load_id

)

select * from as_of_view
