-- CSP_AREA must name exactly one local authority of the local_authorities seed
-- (or be 'all'): otherwise every mart would be empty.
select count(*) as areas
from {{ ref('int_partnership_area') }}
having count(*) <> 1
