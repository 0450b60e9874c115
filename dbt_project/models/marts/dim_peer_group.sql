-- Each authority's peer group: its k most similar authorities (k = var
-- peer_group_size, default 15, macro peer_group_size()) by the Euclidean distance
-- of their standardised profiles (int_analysis__peer_profile: ln population and
-- the police.uk crime rates of the peer_profile_variables seed over the profile
-- year), rounded to 6 decimal places.  Ties in distance are broken by area code.
-- Needs the national police.uk data (CSP_AREA=all): with one area loaded nobody has
-- a peer and this is empty.
with

profile as (

    select * from {{ ref('int_analysis__peer_profile') }}

),

distances as (

    select
        area.area_code,
        area.area_name,
        peer.area_code as peer_area_code,
        peer.area_name as peer_area_name,
        area.profile_fiscal_year,
        count(*) as variables_used,
        sqrt(sum(pow(area.z_score - peer.z_score, 2))) as distance

    from profile as area
    inner join profile as peer
        on
            area.variable = peer.variable
            and area.area_code <> peer.area_code
    group by all

),

ranked as (

    select
        *,
        row_number() over (
            partition by area_code order by distance, peer_area_code
        ) as peer_rank

    from distances

),

final as (

    select
        area_code as area_key,
        area_code,
        area_name,
        cast(peer_rank as integer) as peer_rank,
        peer_area_code as peer_area_key,
        peer_area_code,
        peer_area_name,
        round(distance, 6) as distance,
        profile_fiscal_year,
        cast(variables_used as integer) as variables_used,
        {{ peer_group_size() }} as peer_group_size

    from ranked
    where peer_rank <= {{ peer_group_size() }}

)

select * from final
