package classify

// Causes of a change between two runs (GET /v1/classification/diff).
const (
	// CausePolicy: the policy name or version differ.
	CausePolicy = "policy change"
	// CauseNewData: the runs classified different events, units or
	// population (their InputVersions differ).
	CauseNewData = "new data"
	// CauseLateRegistrations: for two runs of one period with new data,
	// events of the period that the store first recorded between the runs.
	CauseLateRegistrations = "late registrations"
	// CausePeriod: the runs classify different periods.
	CausePeriod = "different period"
	// CauseDataUnknown: a run was stored before runs recorded their
	// InputVersion, so whether the data differ cannot be told.
	CauseDataUnknown = "data unknown"
	// CauseUnexplained: a mahalla changed and none of the above explains it
	// (e.g. only the history of earlier runs changed).
	CauseUnexplained = "unexplained"
)

// Inputs compares what two runs classified: the run-level facts behind a
// diff's causes. CompareInputs fills all but Late, which needs the store
// (store.CompareRuns counts it).
type Inputs struct {
	// PolicyChanged: the policy name or version differ.
	PolicyChanged bool
	// SamePeriod: both runs classify the same period label.
	SamePeriod bool
	// DataKnown: both runs recorded their InputVersion.
	DataKnown bool
	// DataChanged: DataKnown and the InputVersions differ: the events,
	// units or population fed to the runs differ.
	DataChanged bool
	// Late counts the events of the period (in the runs' unit) that the
	// store first recorded between the two runs' CreatedAt; counted only
	// when SamePeriod and DataChanged (0 otherwise).
	Late int
}

// CompareInputs compares the policies, periods and input versions of runs
// a and b (Late stays 0).
func CompareInputs(a, b *Run) Inputs {
	in := Inputs{
		PolicyChanged: a.PolicyName != b.PolicyName || a.PolicyVersion != b.PolicyVersion,
		SamePeriod:    a.Period == b.Period,
		DataKnown:     a.InputVersion > 0 && b.InputVersion > 0,
	}
	in.DataChanged = in.DataKnown && a.InputVersion != b.InputVersion
	return in
}

// Causes lists the run-level causes, in this order: CausePolicy,
// CauseNewData, CauseLateRegistrations (Late > 0), CauseDataUnknown,
// CausePeriod. It is empty for two runs of one period, one policy and the
// same inputs.
func (in Inputs) Causes() []string {
	out := []string{}
	if in.PolicyChanged {
		out = append(out, CausePolicy)
	}
	out = in.dataCauses(out)
	return out
}

// dataCauses appends the causes that come from the data and the period:
// new data (and late registrations), data unknown, another period.
func (in Inputs) dataCauses(out []string) []string {
	switch {
	case in.DataChanged:
		out = append(out, CauseNewData)
		if in.SamePeriod && in.Late > 0 {
			out = append(out, CauseLateRegistrations)
		}
	case !in.DataKnown:
		out = append(out, CauseDataUnknown)
	}
	if !in.SamePeriod {
		out = append(out, CausePeriod)
	}
	return out
}

// ValueCauses lists the causes of changed indicator values of one mahalla:
// CauseNewData (and CauseLateRegistrations) when the data changed,
// CauseDataUnknown when that cannot be told, CausePeriod for another
// period, and CausePolicy when nothing else can change the values (the
// same period and the same data under another policy, e.g. another
// smoothing). Empty when none applies.
func (in Inputs) ValueCauses() []string {
	out := []string{}
	out = in.dataCauses(out)
	if in.PolicyChanged && in.SamePeriod && in.DataKnown && !in.DataChanged {
		out = append(out, CausePolicy)
	}
	return out
}
