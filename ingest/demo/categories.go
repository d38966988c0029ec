package demo

// Category tables of the generator. Articles are those of the Criminal Code
// (crimes) and the Code of Administrative Responsibility (offences) of
// Uzbekistan; the mixes are plausible, not official statistics.

// weighted is a value with a relative weight.
type weighted[T any] struct {
	V T
	W float64
}

// Hour-of-day profiles (24 relative weights, local time).
func hoursDay() [24]float64 {
	return [24]float64{1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4, 5, 6, 6.5, 6.5, 6, 6, 6, 5.5, 5, 4.5, 4, 3, 2.2, 1.6, 1.2}
}
func hoursEvening() [24]float64 {
	return [24]float64{3, 2.2, 1.5, 1, 0.7, 0.5, 0.6, 1, 1.5, 2, 2.5, 3, 3.5, 3.5, 3.5, 4, 4.5, 5.5, 6.5, 7.5, 8, 7.5, 6, 4.5}
}
func hoursNight() [24]float64 {
	return [24]float64{6, 6, 5.5, 5, 4, 2.5, 1.5, 1, 1, 1, 1, 1.2, 1.2, 1.2, 1.2, 1.3, 1.5, 2, 2.5, 3, 3.5, 4.5, 5, 5.5}
}
func hoursTraffic() [24]float64 {
	return [24]float64{1.2, 0.8, 0.6, 0.5, 0.6, 1, 2, 4.5, 5.5, 4.5, 4, 4, 4.2, 4.2, 4.3, 4.6, 5.2, 6, 6.5, 6, 4.8, 3.5, 2.4, 1.7}
}

// crimeCategory describes one kind of crime.
type crimeCategory struct {
	Name     string
	Share    float64
	Articles []weighted[string]
	// BySeverity, when set, picks the article from the severity instead.
	BySeverity [5]string
	Severity   [4]float64 // minor, medium, grave, especially grave
	// Season: relative amplitude and month of the peak (1-12).
	Amp  float64
	Peak int
	// Trend is the relative change per year.
	Trend float64
	// Hotspot is the share placed at markets and stations.
	Hotspot float64
	// Urban multiplies the weight of city mahallas; Concentration is the
	// exponent applied to a mahalla's risk (1 = fully concentrated, 0 =
	// proportional to population).
	Urban, Concentration float64
	Hours                [24]float64
	Weekend              float64 // weight of Saturday and Sunday vs 1
	// Flag probabilities.
	Juvenile, Recidivist, Domestic, Alcohol, Drugs, Public, Solved float64
}

func crimeCategories() []crimeCategory {
	day, eve, night := hoursDay(), hoursEvening(), hoursNight()
	return []crimeCategory{
		{Name: "theft", Share: 0.30, Articles: []weighted[string]{{"169", 1}}, Severity: [4]float64{0.50, 0.35, 0.13, 0.02},
			Amp: 0.18, Peak: 7, Trend: -0.04, Hotspot: 0.40, Urban: 1.6, Concentration: 1, Hours: day, Weekend: 1.1,
			Juvenile: 0.08, Recidivist: 0.20, Alcohol: 0.05, Public: 0.35, Solved: 0.62},
		{Name: "fraud", Share: 0.14, Articles: []weighted[string]{{"168", 1}}, Severity: [4]float64{0.30, 0.40, 0.25, 0.05},
			Amp: 0.05, Peak: 11, Trend: 0.08, Hotspot: 0.15, Urban: 1.5, Concentration: 0.8, Hours: day, Weekend: 0.8,
			Juvenile: 0.01, Recidivist: 0.15, Public: 0.15, Solved: 0.64},
		{Name: "cybercrime", Share: 0.07, Articles: []weighted[string]{{"278-2", 0.5}, {"278-3", 0.2}, {"168", 0.3}}, Severity: [4]float64{0.35, 0.45, 0.17, 0.03},
			Amp: 0.12, Peak: 1, Trend: 0.35, Urban: 1.4, Concentration: 0.3, Hours: day, Weekend: 1,
			Juvenile: 0.04, Recidivist: 0.05, Solved: 0.38},
		{Name: "robbery", Share: 0.035, Articles: []weighted[string]{{"166", 1}}, Severity: [4]float64{0.05, 0.50, 0.40, 0.05},
			Amp: 0.15, Peak: 8, Trend: -0.05, Hotspot: 0.35, Urban: 2, Concentration: 1, Hours: eve, Weekend: 1.2,
			Juvenile: 0.09, Recidivist: 0.25, Alcohol: 0.15, Public: 0.75, Solved: 0.80},
		{Name: "brigandage", Share: 0.012, Articles: []weighted[string]{{"164", 1}}, Severity: [4]float64{0, 0, 0.60, 0.40},
			Amp: 0.1, Peak: 8, Hotspot: 0.15, Urban: 1.5, Concentration: 1, Hours: night, Weekend: 1.2,
			Juvenile: 0.04, Recidivist: 0.35, Alcohol: 0.1, Public: 0.5, Solved: 0.88},
		{Name: "bodily_harm", Share: 0.09, BySeverity: [5]string{"", "109", "105", "104", "104"}, Severity: [4]float64{0.55, 0.30, 0.13, 0.02},
			Amp: 0.20, Peak: 7, Hotspot: 0.08, Urban: 1.2, Concentration: 1, Hours: eve, Weekend: 1.4,
			Juvenile: 0.05, Recidivist: 0.15, Domestic: 0.25, Alcohol: 0.35, Public: 0.35, Solved: 0.90},
		{Name: "domestic_violence", Share: 0.06, Articles: []weighted[string]{{"126-1", 1}}, Severity: [4]float64{0.75, 0.22, 0.03, 0},
			Amp: 0.15, Peak: 1, Trend: 0.05, Urban: 1, Concentration: 0.5, Hours: eve, Weekend: 1.4,
			Juvenile: 0.005, Recidivist: 0.12, Domestic: 1, Alcohol: 0.30, Solved: 0.95},
		{Name: "hooliganism", Share: 0.075, Articles: []weighted[string]{{"277", 1}}, Severity: [4]float64{0.30, 0.50, 0.18, 0.02},
			Amp: 0.25, Peak: 7, Hotspot: 0.30, Urban: 1.5, Concentration: 1, Hours: eve, Weekend: 1.6,
			Juvenile: 0.10, Recidivist: 0.18, Alcohol: 0.45, Public: 0.80, Solved: 0.92},
		{Name: "drugs", Share: 0.06, Articles: []weighted[string]{{"276", 0.55}, {"273", 0.35}, {"270", 0.10}}, Severity: [4]float64{0.25, 0.35, 0.30, 0.10},
			Amp: 0.25, Peak: 8, Trend: 0.03, Hotspot: 0.20, Urban: 1.3, Concentration: 1, Hours: day, Weekend: 1,
			Juvenile: 0.03, Recidivist: 0.25, Drugs: 1, Public: 0.40, Solved: 0.99},
		{Name: "traffic_crime", Share: 0.05, Articles: []weighted[string]{{"266", 0.9}, {"267", 0.1}}, Severity: [4]float64{0.10, 0.50, 0.35, 0.05},
			Amp: 0.15, Peak: 9, Urban: 1.2, Concentration: 0.5, Hours: hoursTraffic(), Weekend: 1.1,
			Juvenile: 0.02, Recidivist: 0.05, Alcohol: 0.15, Public: 1, Solved: 0.93},
		{Name: "embezzlement", Share: 0.04, Articles: []weighted[string]{{"167", 1}}, Severity: [4]float64{0.15, 0.35, 0.35, 0.15},
			Amp: 0.05, Peak: 12, Urban: 1.5, Concentration: 0.7, Hours: day, Weekend: 0.5,
			Recidivist: 0.05, Solved: 0.97},
		{Name: "bribery", Share: 0.02, Articles: []weighted[string]{{"210", 0.7}, {"211", 0.3}}, Severity: [4]float64{0.05, 0.35, 0.45, 0.15},
			Urban: 1.8, Concentration: 0.7, Hours: day, Weekend: 0.4,
			Recidivist: 0.03, Solved: 0.99},
		{Name: "extortion", Share: 0.01, Articles: []weighted[string]{{"165", 1}}, Severity: [4]float64{0, 0.30, 0.50, 0.20},
			Hotspot: 0.2, Urban: 1.5, Concentration: 1, Hours: day, Weekend: 0.9,
			Recidivist: 0.3, Public: 0.3, Solved: 0.9},
		{Name: "property_damage", Share: 0.015, Articles: []weighted[string]{{"173", 1}}, Severity: [4]float64{0.60, 0.35, 0.05, 0},
			Amp: 0.1, Peak: 7, Urban: 1.2, Concentration: 1, Hours: night, Weekend: 1.3,
			Juvenile: 0.12, Recidivist: 0.1, Alcohol: 0.3, Public: 0.5, Solved: 0.6},
		{Name: "illegal_weapons", Share: 0.008, Articles: []weighted[string]{{"248", 1}}, Severity: [4]float64{0.20, 0.60, 0.20, 0},
			Urban: 1, Concentration: 1, Hours: day, Weekend: 1,
			Recidivist: 0.3, Public: 0.3, Solved: 1},
		{Name: "murder", Share: 0.004, Articles: []weighted[string]{{"97", 1}}, Severity: [4]float64{0, 0, 0.15, 0.85},
			Amp: 0.1, Peak: 7, Urban: 1, Concentration: 1, Hours: night, Weekend: 1.3,
			Juvenile: 0.02, Recidivist: 0.2, Domestic: 0.35, Alcohol: 0.35, Public: 0.2, Solved: 0.96},
		{Name: "rape", Share: 0.003, Articles: []weighted[string]{{"118", 1}}, Severity: [4]float64{0, 0, 0.40, 0.60},
			Amp: 0.15, Peak: 7, Urban: 1, Concentration: 1, Hours: night, Weekend: 1.2,
			Juvenile: 0.05, Recidivist: 0.15, Domestic: 0.2, Alcohol: 0.3, Solved: 0.93},
		{Name: "human_trafficking", Share: 0.002, Articles: []weighted[string]{{"135", 1}}, Severity: [4]float64{0, 0, 0.50, 0.50},
			Urban: 1.5, Concentration: 0.5, Hours: day, Weekend: 1,
			Recidivist: 0.1, Solved: 0.97},
	}
}

// accidentCategory is a road-accident type with its vehicles.
type accidentCategory struct {
	Name     string
	Road     float64 // weight on main roads
	Urban    float64 // weight in towns
	Vehicles []weighted[string]
	// Fatal is the probability that somebody is killed (on roads; halved in
	// towns).
	Fatal float64
}

func accidentCategories() []accidentCategory {
	return []accidentCategory{
		{"collision", 0.45, 0.30, []weighted[string]{{"car", 0.70}, {"truck", 0.14}, {"bus", 0.05}, {"motorcycle", 0.05}, {"moped", 0.03}, {"scooter", 0.03}}, 0.20},
		{"pedestrian_hit", 0.20, 0.42, []weighted[string]{{"car", 0.76}, {"truck", 0.05}, {"bus", 0.06}, {"motorcycle", 0.06}, {"moped", 0.03}, {"scooter", 0.04}}, 0.18},
		{"rollover", 0.12, 0.03, []weighted[string]{{"car", 0.6}, {"truck", 0.3}, {"bus", 0.02}, {"motorcycle", 0.08}}, 0.28},
		{"hit_obstacle", 0.09, 0.06, []weighted[string]{{"car", 0.8}, {"truck", 0.15}, {"motorcycle", 0.05}}, 0.22},
		{"cyclist_hit", 0.06, 0.09, []weighted[string]{{"car", 0.8}, {"truck", 0.12}, {"bus", 0.03}, {"motorcycle", 0.05}}, 0.15},
		{"two_wheeler_fall", 0.04, 0.06, []weighted[string]{{"motorcycle", 0.35}, {"moped", 0.2}, {"scooter", 0.25}, {"bicycle", 0.2}}, 0.10},
		{"hit_parked", 0.02, 0.03, []weighted[string]{{"car", 0.85}, {"truck", 0.15}}, 0.03},
		{"other", 0.02, 0.01, []weighted[string]{{"car", 0.6}, {"truck", 0.2}, {"bus", 0.1}, {"bicycle", 0.1}}, 0.10},
	}
}

// offenceCategory is an administrative offence with its article and fines
// (multiples of the base calculation value).
type offenceCategory struct {
	Name     string
	Share    float64
	Articles []weighted[string]
	Fines    []weighted[float64] // BCV multiples
	Amp      float64
	Peak     int
	Hotspot  float64
	Urban    float64
	Hours    [24]float64
	Weekend  float64
}

// BaseCalculationValue is the base calculation value (bazaviy hisoblash
// miqdori) in UZS used for the demo's fines: 412,000 UZS (since 1 August 2025).
const BaseCalculationValue = 412000

func offenceCategories() []offenceCategory {
	return []offenceCategory{
		{"traffic_violation", 0.44, []weighted[string]{{"128-3", 0.7}, {"128-4", 0.25}, {"131", 0.05}},
			[]weighted[float64]{{0.5, 0.35}, {1, 0.35}, {2, 0.2}, {3, 0.08}, {30, 0.02}}, 0.15, 7, 0.05, 1.5, hoursTraffic(), 1.1},
		{"petty_hooliganism", 0.14, []weighted[string]{{"183", 1}},
			[]weighted[float64]{{1, 0.4}, {2, 0.35}, {3, 0.25}}, 0.25, 7, 0.25, 1.4, hoursEvening(), 1.6},
		{"public_drinking", 0.14, []weighted[string]{{"187", 1}},
			[]weighted[float64]{{0.5, 0.85}, {1, 0.1}, {2, 0.05}}, 0.35, 7, 0.2, 1.3, hoursEvening(), 1.7},
		{"improvement_violation", 0.13, []weighted[string]{{"161", 0.6}, {"91-1", 0.4}},
			[]weighted[float64]{{1, 0.6}, {2, 0.25}, {3, 0.15}}, 0.30, 4, 0, 1.2, hoursDay(), 0.8},
		{"petty_theft", 0.08, []weighted[string]{{"61", 1}},
			[]weighted[float64]{{1, 0.4}, {2, 0.35}, {3, 0.25}}, 0.15, 7, 0.45, 1.5, hoursDay(), 1.1},
		{"trade_rule_violation", 0.07, []weighted[string]{{"176", 0.6}, {"179", 0.4}},
			[]weighted[float64]{{1, 0.5}, {3, 0.35}, {5, 0.15}}, 0.1, 6, 0.6, 1.5, hoursDay(), 1.2},
	}
}
