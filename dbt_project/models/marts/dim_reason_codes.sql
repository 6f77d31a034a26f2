-- Every reason code of the submission contract, as data: its level and severity, the column
-- it concerns where fixed, what it means, the Bahasa Indonesia texts the district feedback
-- shows (templates: `{name}` is filled with the value found in each file or row) and where
-- the contract defines it. From the generated seed `reason_codes` (sinergi.reason_codes).
-- Codes in the audit tables carry the column after a colon (`unknown_code:lokasi`): join on
-- the part before it.
with

reason_codes as (
    select * from {{ ref('reason_codes') }}
),

final as (
    select
        reason_code,
        level,
        severity,
        column_name,
        meaning_en,
        message_id,
        what_to_do_id,
        contract_section
    from reason_codes
)

select * from final
