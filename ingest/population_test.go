package ingest

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/crimemap/crimemap/store"
)

func importPop(t *testing.T, in string, opts PopulationOptions) (PopulationSummary, []store.Population, string, error) {
	t.Helper()
	var rej strings.Builder
	opts.Rejects = &rej
	var got []store.Population
	sum, err := ImportPopulation(context.Background(), strings.NewReader(in), opts, func(_ context.Context, rows []store.Population) (store.Result, error) {
		got = append(got, rows...)
		return store.Result{Inserted: len(rows)}, nil
	})
	return sum, got, rej.String(), err
}

func TestImportPopulationLong(t *testing.T) {
	in := "unit;yil;aholi\n" +
		"1710212001;2024;4 300\n" +
		"1710212001;2025;4410,0\n" +
		"9999;2024;10\n" + // unknown unit
		"1710212001;24;10\n" + // bad year
		"1710212001;2023;-5\n" + // bad value
		"1710212001;2022;12.5\n" + // not whole
		"1710212001;2024;4300\n" + // same again: fine
		"1710212001;2024;4301\n" + // conflicting duplicate
		";2024;5\n"
	known := func(c string) bool { return c == "1710212001" }
	sum, got, rej, err := importPop(t, in, PopulationOptions{Fields: map[string]string{"code": "unit", "year": "yil", "population": "aholi"}, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Population{{UnitCode: "1710212001", Year: 2024, Population: 4300}, {UnitCode: "1710212001", Year: 2025, Population: 4410}, {UnitCode: "1710212001", Year: 2024, Population: 4300}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if sum.Rows != 9 || sum.Accepted != 3 || sum.Rejected != 6 || sum.Units != 1 || !reflect.DeepEqual(sum.Years, []int{2024, 2025}) {
		t.Errorf("summary %+v", sum)
	}
	wantBy := map[string]int{PopRejectUnknownUnit: 1, PopRejectYear: 1, PopRejectValue: 2, PopRejectDuplicate: 1, PopRejectCode: 1}
	if !reflect.DeepEqual(sum.RejectedBy, wantBy) {
		t.Errorf("RejectedBy = %v, want %v", sum.RejectedBy, wantBy)
	}
	for _, s := range []string{"line,field,reason,raw", `4,code,"unknown unit code ""9999""`, "5,year,", "7,population", "--scale 1000", "on line 2"} {
		if !strings.Contains(rej, s) {
			t.Errorf("rejects lack %q:\n%s", s, rej)
		}
	}
}

func TestImportPopulationFixedYear(t *testing.T) {
	_, got, _, err := importPop(t, "code,population\nA,1.5\n", PopulationOptions{Year: 2020, Scale: 1000})
	if err != nil || !reflect.DeepEqual(got, []store.Population{{UnitCode: "A", Year: 2020, Population: 1500}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, _, _, err := importPop(t, "code,population\nA,1.5\n", PopulationOptions{}); !errors.Is(err, ErrMissingColumn) || !strings.Contains(err.Error(), "--year") {
		t.Errorf("no year: %v", err)
	}
	for _, f := range []map[string]string{{"people": "x"}, {"population": "nope"}} {
		if _, _, _, err := importPop(t, "code,year,population\nA,2020,1\n", PopulationOptions{Fields: f}); err == nil {
			t.Errorf("fields %v: no error", f)
		}
	}
}

// TestImportPopulationOfficial reads the official file (thousands, wide).
func TestImportPopulationOfficial(t *testing.T) {
	b, err := os.ReadFile("../../shared/data/population/uzb_siat_2.01.02.0001_permanent_population_subset.csv")
	if err != nil {
		t.Skip("official population file not at hand:", err)
	}
	known := func(c string) bool { return c != "1700" } // every code but the republic's
	sum, got, rej, err := importPop(t, string(b), PopulationOptions{Scale: 1000, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 45 || sum.Figures != 44*9 || sum.Rejected != 6 || sum.RejectedBy[PopRejectUnknownUnit] != 1 || len(sum.Years) != 9 {
		t.Errorf("summary %+v", sum)
	}
	// The republic (line 2) is no stored unit; Ko'kdala (line 32) was
	// formed in 2023 and has 0.0 before: both rejected, with reasons.
	for _, s := range []string{`2,code,"unknown unit code ""1700""`, "32,y2022,population of 1710240 in 2022: 0 residents"} {
		if !strings.Contains(rej, s) {
			t.Errorf("rejects lack %q:\n%s", s, rej)
		}
	}
	for _, p := range got {
		if p.UnitCode == "1735" && p.Year == 2018 && p.Population != 1_842_300 {
			t.Errorf("Karakalpakstan 2018 = %d, want 1842300", p.Population)
		}
	}
	// Without --scale the decimals of thousands are refused with advice.
	_, _, rej, err = importPop(t, string(b), PopulationOptions{Known: known})
	if !errors.Is(err, ErrLooksScaled) {
		t.Fatalf("without --scale: %v, want ErrLooksScaled (nothing stored)", err)
	}
	if !strings.Contains(rej, "--scale 1000") {
		t.Errorf("rejects without --scale give no advice:\n%.500s", rej)
	}
}

func TestImportPopulationAllRejected(t *testing.T) {
	sum, _, _, err := importPop(t, "code,year,population\nX,2024,5\n", PopulationOptions{Known: func(string) bool { return false }})
	if !errors.Is(err, ErrAllRejected) || sum.Rejected != 1 {
		t.Errorf("err %v, summary %+v", err, sum)
	}
	if _, _, _, err := importPop(t, "code,year,population\n", PopulationOptions{}); !errors.Is(err, ErrNoFigures) {
		t.Errorf("empty file: %v", err)
	}
}

func FuzzPopulationCSV(f *testing.F) {
	f.Add("code,year,population\nA,2024,100\nA,2024,101\n,x,y\n")
	f.Add("soato;y2018;y2019\n1703;3011,7;\n1706;x;1894.8\n")
	f.Add("code,2020,2021\n\"A\n\",1,2\nB,\"3")
	f.Fuzz(func(t *testing.T, in string) {
		for _, scale := range []float64{1, 1000} {
			var rej strings.Builder
			n := 0
			sum, err := ImportPopulation(context.Background(), strings.NewReader(in), PopulationOptions{Scale: scale, Year: 2024, Rejects: &rej},
				func(_ context.Context, rows []store.Population) (store.Result, error) {
					for _, r := range rows {
						if r.UnitCode == "" || r.Population <= 0 || r.Year < store.MinPopulationYear || r.Year > store.MaxPopulationYear {
							t.Fatalf("accepted invalid figure %+v", r)
						}
					}
					n += len(rows)
					return store.Result{}, nil
				})
			if err == nil && (n != sum.Accepted || sum.Accepted == 0) {
				t.Fatalf("sink saw %d, accepted %d", n, sum.Accepted)
			}
			if sum.Accepted+sum.Rejected < sum.Figures || sum.Rejected > sum.Figures+sum.Rows {
				t.Fatalf("accepted %d + rejected %d < figures %d", sum.Accepted, sum.Rejected, sum.Figures)
			}
		}
	})
}
