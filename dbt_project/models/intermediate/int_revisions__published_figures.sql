-- The append-only ledger of published figures (orchestration/revisions.py appends
-- the figures of each report it publishes).  The pre-hook is the ledger table's one
-- definition: it creates it, empty, on the first build, so the marts build before
-- any report has been published.  Rows are never updated or deleted.
{{ config(pre_hook=[
    "create schema if not exists revisions",
    "create table if not exists revisions.published_figures (
        report_fiscal_year varchar not null,
        report_quarter integer not null,
        published_at timestamp not null,
        as_of_date date,
        area_code varchar not null,
        area_name varchar,
        measure_id varchar not null,
        series varchar not null,
        fiscal_year varchar not null,
        quarter integer not null,
        figure varchar not null,
        value double,
        data_status varchar,
        primary key (
            report_fiscal_year, report_quarter, published_at, area_code, measure_id,
            series, fiscal_year, quarter, figure
        )
    )",
]) }}

with

ledger as (

    select * from revisions.published_figures

),

renamed as (

    select
        report_fiscal_year,
        report_quarter,
        report_fiscal_year || ' Q' || report_quarter as report_label,
        published_at,
        as_of_date,
        area_code,
        area_name,
        measure_id,
        series,
        fiscal_year,
        quarter,
        figure,
        value,
        data_status

    from ledger

)

select * from renamed
