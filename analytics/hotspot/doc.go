// Package hotspot finds statistically significant spatial clusters:
// Getis-Ord Gi* with false discovery rate correction, local and global
// Moran's I, General G, the Mann-Kendall trend test and Emerging Hot Spot
// Analysis. The core works on plain value vectors indexed 0..n-1 and
// spatial weights in CSR form (Weights); the H3, mahalla and space-time
// cube front ends map cells and units to those indexes.
//
// Every number is checked to 1e-6 against PySAL esda and R spdep (see
// testdata/README.md): the esda 6-point toy, all 256 cells of the Getis &
// Ord (1996) grid for five distance bands, Columbus crime (local G, Gi*,
// local Moran and global Moran with COL.nb and with queen contiguity built
// from the polygons) and St Louis homicide (global Moran).
//
// # Weights
//
//   - Weights are used as given. NewBinaryWeights, DistanceBand and
//     QueenContiguity build binary weights (Values nil, every link 1);
//     RowStandardized gives spdep style "W" / esda transform "R".
//   - DistanceBand links i and j iff lower < d(i,j) <= upper, spdep
//     dnearneigh's bounds; lower = 0 is esda's DistanceBand(threshold).
//   - QueenContiguity links polygons that share a boundary point: two
//     vertices within tol, or a vertex within tol of the other polygon's
//     edge (T-junctions, edges digitised with different vertices). On
//     Columbus it reproduces spdep poly2nb(queen = TRUE) and libpysal's
//     columbus.gal exactly; on St Louis it finds stl.gal plus four
//     corner-only pairs that share an exact vertex, which stl.gal omits.
//
// # Getis-Ord
//
//   - GiStar includes the location itself with weight 1 (spdep
//     include.self, esda star=True); self-links already in w are ignored.
//     Gi excludes it and uses the mean and variance of the other n-1
//     values (spdep localG).
//   - The variance of Gi* uses the population divisor n (sum of squared
//     deviations / n), as spdep and esda do; Getis & Ord (1996) print
//     n-1, so their 1.447943 is 1.45078 here.
//   - z is analytical (Ord & Getis 1995), not permutation based;
//     p = 2(1 - Phi(|z|)) = erfc(|z|/sqrt 2), two-sided.
//   - With binary weights the z of spdep styles "B" and "W" coincide (z
//     is invariant to scaling a row); esda's transform "R" uses a
//     different variance and is not reproduced.
//   - GeneralG returns the one-sided p for "greater" (high-value
//     clustering), as spdep globalG.test and esda G do.
//   - Cost: GiStar and Gi are O(n + links) with the global sums computed
//     once; with FDRBins about 10 ms for 100,000 H3 cells.
//
// # Confidence bins and FDR
//
// Bins follow ArcGIS Hot Spot Analysis: ±3 at 99%, ±2 at 95%, ±1 at 90%,
// 0 otherwise, the sign from z. FDRBins applies the Benjamini-Hochberg
// step-up procedure separately at alpha = 0.01, 0.05 and 0.10 (each bin is
// the strongest level a location passes), with the family being every
// location with a finite p in the call (one map, one period). NaN z or p
// give bin 0 and are left out of the family. RawBins uses p < alpha
// without correction. With BH the test is p <= p_(k*) where k* is the
// largest k with p_(k) <= k alpha / m.
//
// # Moran's I
//
//   - MoranI uses w as given: row-standardise for style "W", binary for
//     "B". It returns the variance under normality and under
//     randomisation (Cliff & Ord), their z, and one-sided p-values for
//     "greater" (positive autocorrelation), as spdep moran.test and esda
//     Moran.p_norm publish them.
//   - LocalMoran computes I_i = z_i / m2 * sum_j w_ij z_j with
//     m2 = sum z^2 / n (spdep localmoran, mlvar = TRUE; esda scales by
//     (n-1)/n). Z is spdep's analytical z under conditional randomisation
//     (its default). PSim is esda's folded conditional-permutation pseudo
//     p-value (larger+1)/(permutations+1) — at most 0.5, a one-tailed
//     test in the direction observed; compare it with alpha, not alpha/2.
//     Location i draws from its own PCG(seed, i) stream, so results are
//     reproducible for a given seed and independent of parallelism, but
//     not bit-identical to esda's numpy stream.
//   - Quadrants use GeoDa/esda numbering 1 HH, 2 LH, 3 LL, 4 HL by the
//     signs of z_i and its spatial lag (0 if either is exactly zero or the
//     location has no neighbours); they are not filtered by significance.
//
// # Mann-Kendall
//
// S = sum_{i<j} sign(x_j - x_i); Var(S) is corrected for ties;
// z = (S - sign(S)) / sqrt(Var(S)) (continuity correction); p two-sided;
// Tau is Kendall's tau-a S / (n(n-1)/2); Trend is ±1 when p < 0.05. NaN
// values are dropped; fewer than three values give no trend.
//
// # Emerging hot spots
//
// ClassifyEmerging follows ArcGIS Pro's Emerging Hot Spot Analysis. A
// step is hot when p < alpha and z > 0, cold when p < alpha and z < 0.
// "90%" means hot steps >= 0.9 * steps, compared exactly in integers.
// The Mann-Kendall test runs on the Gi* z series. Precedence (first match
// wins), described for hot; cold is the mirror image with hot and cold
// swapped:
//
//  1. New: the final step is hot and no earlier step is hot (earlier
//     cold steps are allowed: ArcGIS excludes a cold history only for
//     sporadic).
//  2. Intensifying / persistent / diminishing: the final step is hot and
//     >= 90% of steps are hot; intensifying if the MK trend is
//     significantly increasing, diminishing if significantly decreasing,
//     else persistent.
//  3. Consecutive: the final step is hot, the hot steps form one
//     uninterrupted run (>= 2 steps) ending at the final step, < 90% hot
//     (earlier cold steps allowed, as for new).
//  4. Oscillating: the final step is hot, some step is cold, < 90% hot.
//  5. Sporadic: the final step is hot otherwise (on-and-off hot, < 90%,
//     never cold).
//  6. Rules 1-5 mirrored for a cold final step give the cold categories.
//  7. Historical: the final step is neither hot nor cold and >= 90% of
//     steps are hot (historical hot spot) or cold (historical cold spot);
//     only possible with at least 10 steps.
//  8. No pattern detected otherwise.
//
// A final significant step therefore always beats a historical pattern
// (nine hot steps then a cold one is a new cold spot).
//
// # Errors
//
// Errors wrap sentinels: ErrTooFew (fewer than three locations; General
// G and Moran's I need four), ErrConstant (all values equal; wraps
// ErrTooFew), ErrLength, ErrWeights, ErrNonFinite, ErrNoNeighbors.
// Undefined local statistics (Gi of an isolate, zero variance) are NaN
// rather than errors. The package has no mutable package-level state.
//
// # Cancellation
//
// Every computation that can be long (the statistics, the weights, the
// study cells, the H3, mahalla and emerging front ends) takes a context
// first. It looks at it on entry and then every few thousand links, cells
// or permutation draws (a few milliseconds of work at most), so that a
// cancelled or timed-out request stops using CPU within 100 ms; the error
// then wraps ctx.Err(), so errors.Is(err, context.Canceled) or
// context.DeadlineExceeded holds. Large H3 polygon fills are cut into
// strips for the same reason, and the space-time Gi* visits its links in
// place instead of allocating the cube in one step that could not look at
// the context.
package hotspot
