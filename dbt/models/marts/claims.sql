-- The claims ledger: each claim from the claims file measured against the marts.
-- The measuring query is the macro measure_claims (macros/measure_claims.sql), which
-- `rotation claims --file` renders too, on the published copy: one text, so the CLI
-- and this ledger cannot measure differently. Window convention: the base is the last
-- close on or before `start`, the end the last on or before `end`; drawdown / rally run
-- over the closes from that base through `end`. A claim whose data stops short of its
-- dates, by more than `claims_max_staleness_days` for prices or
-- `claims_max_rate_staleness_days` for rates, is `no_data` rather than measured on
-- stale values; a record_high needs `claims_record_high_min_sessions` earlier closes.

{{ measure_claims(
    claims=ref('stg_raw__claims'),
    prices=ref('fct_daily_prices'),
    rates=ref('stg_raw__rates'),
    decisions=ref('fomc_decisions'),
    pe=ref('pe_discount'),
    price_staleness=var('claims_max_staleness_days'),
    rate_staleness=var('claims_max_rate_staleness_days'),
    record_high_min_sessions=var('claims_record_high_min_sessions')
) }}
