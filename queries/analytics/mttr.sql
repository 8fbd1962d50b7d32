-- Experimental MTTR per period and group (SPEC section 7).
-- Tables: experiment_outcomes (one row per experiment: period, team, service, template, verdict,
-- conclusive, impacted, recovered, time_to_recover_s, censored_at_s) and experiment_systems
-- (experiment_id, system; one row per system an experiment exercises).
-- Over the conclusive experiments that were impacted: n = those that recovered, mean, median and
-- p90 (linear interpolation) of their time_to_recover_s, censored = impacted but never recovered;
-- durations and events list every run (recovery time, or how long it was seen not to recover) for
-- the Kaplan-Meier estimate, computed by checkup from these lists.
WITH impacted AS (
    SELECT * FROM experiment_outcomes WHERE conclusive AND impacted
),
by_group AS (
    SELECT period, 'all' AS group_by, 'all' AS group_value, recovered, time_to_recover_s, censored_at_s FROM impacted
    UNION ALL
    SELECT period, 'team', team, recovered, time_to_recover_s, censored_at_s FROM impacted WHERE team IS NOT NULL
    UNION ALL
    SELECT period, 'service', service, recovered, time_to_recover_s, censored_at_s FROM impacted WHERE service IS NOT NULL
    UNION ALL
    SELECT period, 'template', template, recovered, time_to_recover_s, censored_at_s FROM impacted WHERE template IS NOT NULL
    UNION ALL
    SELECT i.period, 'system', s.system, i.recovered, i.time_to_recover_s, i.censored_at_s
    FROM impacted i JOIN experiment_systems s ON i.experiment_id = s.experiment_id
)
SELECT
    period,
    group_by,
    group_value,
    SUM(CASE WHEN recovered THEN 1 ELSE 0 END) AS n,
    AVG(CASE WHEN recovered THEN time_to_recover_s END) AS mean_s,
    MEDIAN(CASE WHEN recovered THEN time_to_recover_s END) AS median_s,
    QUANTILE_CONT(CASE WHEN recovered THEN time_to_recover_s END, 0.9) AS p90_s,
    SUM(CASE WHEN recovered THEN 0 ELSE 1 END) AS censored,
    ARRAY_AGG(COALESCE(time_to_recover_s, censored_at_s)) AS durations,
    ARRAY_AGG(recovered) AS events
FROM by_group
GROUP BY period, group_by, group_value
ORDER BY group_by, group_value, period
