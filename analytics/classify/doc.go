// Package classify classifies mahallas red, yellow or green for a review
// period (month, quarter, half-year, year) under a versioned, explainable
// policy that is data, never code: a YAML or JSON file (LoadPolicy) or the
// embedded default (DefaultPolicy, an ASSUMPTION: the official "safe
// mahalla" criteria are not public).
//
// A policy names indicators of fixed kinds (crime rate per 1,000 a year,
// empirical-Bayes smoothed against the district; grave, public-place,
// juvenile, domestic, recidivist and alcohol-or-drug crimes; administrative
// offences; road accidents with casualties; the change against the same
// period last year; the share of crimes in Gi* hot cells), their
// thresholds, and ordered rules (all, any, min_fired of, indicator gte,
// rank_top). A mahalla without registered crime is green; otherwise the
// first rule that holds decides, else the policy's default (yellow).
//
// Classify computes every indicator from an analytics.Snapshot, applies
// the rules and explains each result: the deciding rule, the indicators
// that fired, the score and rank in the district, the transition and
// streak from earlier runs, the consecutive red years, and a what-if (the
// smallest change of indicators that moves the mahalla down a category).
// Runs are frozen values; persisting them is the store's job.
package classify
