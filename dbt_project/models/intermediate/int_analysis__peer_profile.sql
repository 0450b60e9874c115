-- The profile each authority's peer group is found on (peer_profile_variables
-- seed): one row per authority and variable with its value and z-score.  Profile
-- year: the latest fiscal year whose 12 months are all in the police.uk data.  Only
-- authorities with police.uk rows in all 12 months of it have a profile (a missing
-- month would understate their rates).  z-score: (value - mean) / sample standard
-- deviation over the profiled authorities (0 when every authority has the same value).
with

street_counts as (

    select * from {{ ref('base_policeuk__street_counts') }}

),

variables as (

    select * from {{ ref('peer_profile_variables') }}

),

population as (

    select * from {{ ref('ons_population') }}

),

fiscal_months as (

    select * from {{ ref('int_fiscal_months') }}

),

profile_year as (

    select max(fiscal_year) as fiscal_year

    from (
        select fiscal_months.fiscal_year

        from fiscal_months
        inner join (select distinct record_month from street_counts) as data_months
            on fiscal_months.month_start = data_months.record_month
        group by fiscal_months.fiscal_year
        having count(*) = 12
    ) as complete_years

),

profile_counts as (

    select
        street_counts.area_code,
        street_counts.record_month,
        street_counts.crime_type,
        street_counts.record_count

    from street_counts
    inner join fiscal_months
        on street_counts.record_month = fiscal_months.month_start
    inner join profile_year
        on fiscal_months.fiscal_year = profile_year.fiscal_year

),

profiled_areas as (

    select area_code

    from profile_counts
    group by area_code
    having count(distinct record_month) = 12

),

values_per_area as (

    select
        profiled_areas.area_code,
        variables.variable,
        case
            when variables.transform = 'ln' then ln(population.population)
            else
                1000.0 * coalesce(sum(profile_counts.record_count), 0)
                / population.population
        end as raw_value

    from profiled_areas
    cross join variables
    inner join population
        on profiled_areas.area_code = population.area_code
    left join profile_counts
        on
            profiled_areas.area_code = profile_counts.area_code
            and variables.crime_type = profile_counts.crime_type
    group by
        profiled_areas.area_code, variables.variable, variables.transform, population.population

),

standardised as (

    select
        values_per_area.area_code,
        population.area_name,
        values_per_area.variable,
        profile_year.fiscal_year as profile_fiscal_year,
        values_per_area.raw_value,
        coalesce(
            (values_per_area.raw_value - avg(values_per_area.raw_value) over per_variable)
            / nullif(stddev_samp(values_per_area.raw_value) over per_variable, 0),
            0
        ) as z_score

    from values_per_area
    inner join population
        on values_per_area.area_code = population.area_code
    cross join profile_year
    window per_variable as (partition by values_per_area.variable)

)

select * from standardised
