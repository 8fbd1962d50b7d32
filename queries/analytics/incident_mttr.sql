-- Real incident MTTR per period and group (SPEC section 7).
-- Table: incident_durations (incident_id, period, team, service, duration_s = resolved_at - started_at).
-- Every incident is resolved, so n counts all of them and censored is 0.
WITH by_group AS (
    SELECT period, 'all' AS group_by, 'all' AS group_value, duration_s FROM incident_durations
    UNION ALL
    SELECT period, 'team', team, duration_s FROM incident_durations WHERE team IS NOT NULL
    UNION ALL
    SELECT period, 'service', service, duration_s FROM incident_durations WHERE service IS NOT NULL
)
SELECT
    period,
    group_by,
    group_value,
    COUNT(*) AS n,
    AVG(duration_s) AS mean_s,
    MEDIAN(duration_s) AS median_s,
    QUANTILE_CONT(duration_s, 0.9) AS p90_s,
    0 AS censored
FROM by_group
GROUP BY period, group_by, group_value
ORDER BY group_by, group_value, period
