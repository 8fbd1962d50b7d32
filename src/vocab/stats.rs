//! The order statistics every part of checkup shares, so that a median or a P90 means the same in
//! a verdict, an MTTR row, an ROI range and a report.

/// Linear-interpolation percentile of sorted, non-empty values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

/// The median of the values that are numbers (NaN ignored); `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut numbers: Vec<f64> = values
        .iter()
        .copied()
        .filter(|value| !value.is_nan())
        .collect();
    median_in_place(&mut numbers)
}

/// The median of `values`, none of them NaN, found by selection rather than sorting (judging
/// takes two medians of every baseline); reorders them.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let count = values.len();
    if count == 0 {
        return None;
    }
    let (below, middle, _) = values.select_nth_unstable_by(count / 2, f64::total_cmp);
    Some(if count % 2 == 1 {
        *middle
    } else {
        let highest_below = below
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .expect("an even count has a lower half");
        (highest_below + *middle) / 2.0
    })
}

/// The median of values sorted in ascending order; `None` when there are none.
pub fn median_of_sorted(sorted: &[f64]) -> Option<f64> {
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        count if count % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}
/// The Kaplan–Meier estimate of the time by which a share `q` of runs had recovered, over runs
/// that recovered (`(time, true)`) and runs seen not to recover for `time` (`(time, false)`,
/// censored): the first recovery time at which the estimated share still unrecovered falls to
/// `1 - q` or below. `None` when it never falls that far (too many runs never recovered).
pub fn kaplan_meier_quantile(runs: &[(f64, bool)], q: f64) -> Option<f64> {
    let mut sorted: Vec<(f64, bool)> = runs.iter().copied().filter(|(t, _)| !t.is_nan()).collect();
    // At equal times, recoveries come before censorings (a run censored at t was still at risk).
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut at_risk = sorted.len() as f64;
    let mut unrecovered = 1.0;
    let mut index = 0;
    while index < sorted.len() {
        let time = sorted[index].0;
        let (mut recovered, mut leaving) = (0.0, 0.0);
        while index < sorted.len() && sorted[index].0 == time {
            recovered += f64::from(u8::from(sorted[index].1));
            leaving += 1.0;
            index += 1;
        }
        if recovered > 0.0 {
            unrecovered *= 1.0 - recovered / at_risk;
            if unrecovered <= 1.0 - q + 1e-12 {
                return Some(time);
            }
        }
        at_risk -= leaving;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaplan_meier_counts_runs_that_never_recovered() {
        // Worked by hand: recoveries at 100, 200, 300; one run seen for 150 s without recovering.
        // S(100) = 3/4; at 200 two are at risk (the censored run left at 150): S = 3/4 × 1/2 =
        // 3/8 <= 1/2, so the KM median is 200 (the median of recovered runs alone is also 200,
        // but with the censored run the naive median would hide it).
        let runs = [(100.0, true), (150.0, false), (200.0, true), (300.0, true)];
        assert_eq!(kaplan_meier_quantile(&runs, 0.5), Some(200.0));
        // S(300) = 0: 90% have recovered by 300.
        assert_eq!(kaplan_meier_quantile(&runs, 0.9), Some(300.0));
        // Most runs never recovered: the estimate never falls to one half.
        let mostly_censored = [(100.0, true), (2400.0, false), (2400.0, false)];
        assert_eq!(kaplan_meier_quantile(&mostly_censored, 0.5), None);
        // Without censoring the KM median is the lower middle recovery time.
        let all = [(60.0, true), (120.0, true), (180.0, true), (240.0, true)];
        assert_eq!(kaplan_meier_quantile(&all, 0.5), Some(120.0));
        assert_eq!(kaplan_meier_quantile(&[], 0.5), None);
    }

    #[test]
    fn medians_by_selection_equal_the_middle_of_the_sorted_values() {
        assert_eq!(median(&[3.0, f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median_of_sorted(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(median_of_sorted(&[]), None);
        // Against sorting, on lists of every length up to 40 with repeated values.
        let mut state = 7_u64;
        for count in 1..=40 {
            let values: Vec<f64> = (0..count)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    ((state >> 33) % 10) as f64 - 3.0
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let middle = count / 2;
            let expected = if count % 2 == 1 {
                sorted[middle]
            } else {
                (sorted[middle - 1] + sorted[middle]) / 2.0
            };
            assert_eq!(median(&values), Some(expected), "{values:?}");
            assert_eq!(median_of_sorted(&sorted), Some(expected));
        }
    }
}
