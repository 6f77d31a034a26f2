-- The district pairs and the programme totals of possible double payments tell one story:
-- a (period, programme) has pairs exactly when it has duplicate persons; no pair has more
-- persons than the programme's total, and adding up the unordered pairs counts every
-- duplicated person at least once (more than once only when paid by three districts);
-- both sides of a pair name the same persons. Returns the rows that disagree.
with

totals as (
    select
        period,
        program_code,
        duplicate_persons
    from {{ ref('fct_cross_district_duplicates') }}
),

pairs as (
    select
        period,
        program_code,
        district_code,
        other_district_code,
        duplicate_persons
    from {{ ref('fct_cross_district_duplicate_pairs') }}
),

pairs_per_program as (
    select
        period,
        program_code,
        max(duplicate_persons) as most_persons_in_a_pair,
        sum(
            case when district_code < other_district_code then duplicate_persons end
        ) as persons_over_pairs
    from pairs
    group by
        period,
        program_code
),

disagreeing_programs as (
    select
        totals.period,
        totals.program_code,
        'pairs and totals differ' as problem
    from totals
    left join pairs_per_program
        on totals.period = pairs_per_program.period
        and totals.program_code = pairs_per_program.program_code
    where (totals.duplicate_persons > 0) <> (pairs_per_program.period is not null)
        or pairs_per_program.most_persons_in_a_pair > totals.duplicate_persons
        or pairs_per_program.persons_over_pairs < totals.duplicate_persons
),

one_sided_pairs as (
    select
        here.period,
        here.program_code,
        'the two sides of a pair differ' as problem
    from pairs as here
    left join pairs as there
        on here.period = there.period
        and here.program_code = there.program_code
        and here.district_code = there.other_district_code
        and here.other_district_code = there.district_code
    where there.duplicate_persons is null
        or there.duplicate_persons <> here.duplicate_persons
)

select * from disagreeing_programs
union all
select * from one_sided_pairs
