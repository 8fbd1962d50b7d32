-- Verdict counts and experimental recovery time per quarter.
-- Table: experiment_outcomes (one row per experiment: its quarter, verdict, impacted flag,
-- recovered flag and time_to_recover_s). Censored experiments (impacted, never recovered) are
-- counted, never dropped; the recovery statistics cover the impacted experiments that recovered.
SELECT
    quarter,
    COUNT(*) AS experiments,
    SUM(CASE WHEN verdict = 'green' THEN 1 ELSE 0 END) AS green,
    SUM(CASE WHEN verdict = 'yellow' THEN 1 ELSE 0 END) AS yellow,
    SUM(CASE WHEN verdict = 'red' THEN 1 ELSE 0 END) AS red,
    SUM(CASE WHEN verdict = 'inconclusive' THEN 1 ELSE 0 END) AS inconclusive,
    SUM(CASE WHEN verdict = 'in_progress' THEN 1 ELSE 0 END) AS in_progress,
    SUM(CASE WHEN conclusive AND impacted AND recovered THEN 1 ELSE 0 END) AS recovered,
    SUM(CASE WHEN conclusive AND impacted AND NOT recovered THEN 1 ELSE 0 END) AS censored,
    MEDIAN(CASE WHEN conclusive AND impacted AND recovered THEN time_to_recover_s END) AS median_time_to_recover_s,
    QUANTILE_CONT(CASE WHEN conclusive AND impacted AND recovered THEN time_to_recover_s END, 0.9) AS p90_time_to_recover_s
FROM experiment_outcomes
GROUP BY quarter
ORDER BY quarter
