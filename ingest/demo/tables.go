package demo

// Constant tables of the demo. They are functions returning fresh values so
// that no package-level state can be mutated.

// place is an approximate real location (WGS84).
type place struct{ Lat, Lon float64 }

// districtSpec places a district or city: Centre is its administrative
// centre (town), Site the Voronoi site used to draw the synthetic district
// (the centre when zero), Radius (km) makes a city a small disc.
type districtSpec struct {
	Code   string
	Centre place
	Site   place
	City   bool
}

func (d districtSpec) site() place {
	if d.Site == (place{}) {
		return d.Centre
	}
	return d.Site
}

// districtSpecs lists the 16 districts and cities of Kashkadarya and the 13
// of Bukhara with approximate real centres.
func districtSpecs() []districtSpec {
	return []districtSpec{
		// Kashkadarya (1710).
		{Code: "1710401", Centre: place{38.862, 65.790}, City: true},                  // Qarshi city
		{Code: "1710405", Centre: place{39.057, 66.830}, City: true},                  // Shahrisabz city
		{Code: "1710207", Centre: place{38.620, 66.248}},                              // G'uzor
		{Code: "1710212", Centre: place{38.352, 66.500}, Site: place{38.330, 66.600}}, // Dehqonobod (Karashina)
		{Code: "1710220", Centre: place{38.822, 66.460}},                              // Qamashi
		{Code: "1710224", Centre: place{38.818, 65.650}, Site: place{38.790, 65.640}}, // Qarshi tumani (Beshkent)
		{Code: "1710229", Centre: place{39.037, 65.585}, Site: place{39.070, 65.620}}, // Koson
		{Code: "1710232", Centre: place{39.118, 66.880}, Site: place{39.170, 66.930}}, // Kitob
		{Code: "1710233", Centre: place{38.880, 65.230}, Site: place{38.850, 65.050}}, // Mirishkor (Yangi Mirishkor)
		{Code: "1710234", Centre: place{39.255, 65.153}, Site: place{39.300, 65.000}}, // Muborak
		{Code: "1710235", Centre: place{38.640, 65.675}, Site: place{38.560, 65.600}}, // Nishon (Yangi Nishon)
		{Code: "1710237", Centre: place{38.955, 65.435}, Site: place{38.940, 65.420}}, // Kasbi (Mug'lon)
		{Code: "1710240", Centre: place{39.120, 66.250}, Site: place{39.180, 66.230}}, // Ko'kdala
		{Code: "1710242", Centre: place{39.033, 66.572}, Site: place{39.060, 66.540}}, // Chiroqchi
		{Code: "1710245", Centre: place{39.000, 66.900}, Site: place{38.990, 67.080}}, // Shahrisabz tumani
		{Code: "1710250", Centre: place{38.915, 66.740}, Site: place{38.800, 66.880}}, // Yakkabog'
		// Bukhara (1706).
		{Code: "1706401", Centre: place{39.775, 64.420}, City: true},                  // Bukhara city
		{Code: "1706403", Centre: place{39.722, 64.550}, City: true},                  // Kogon city
		{Code: "1706204", Centre: place{39.418, 63.803}, Site: place{39.250, 63.650}}, // Olot
		{Code: "1706207", Centre: place{39.860, 64.455}, Site: place{39.870, 64.470}}, // Buxoro tumani (Galaosiyo)
		{Code: "1706212", Centre: place{40.030, 64.515}, Site: place{40.000, 64.560}}, // Vobkent
		{Code: "1706215", Centre: place{40.100, 64.682}, Site: place{40.200, 64.800}}, // G'ijduvon
		{Code: "1706219", Centre: place{39.650, 64.620}, Site: place{39.640, 64.650}}, // Kogon tumani
		{Code: "1706230", Centre: place{39.500, 63.853}, Site: place{39.600, 63.950}}, // Qorako'l
		{Code: "1706232", Centre: place{39.500, 64.800}, Site: place{39.380, 64.950}}, // Qorovulbozor
		{Code: "1706240", Centre: place{40.020, 64.250}, Site: place{40.080, 64.220}}, // Peshku (Yangibozor)
		{Code: "1706242", Centre: place{39.930, 64.380}, Site: place{39.900, 64.400}}, // Romitan
		{Code: "1706246", Centre: place{39.740, 64.210}, Site: place{39.700, 64.150}}, // Jondor
		{Code: "1706258", Centre: place{40.120, 64.500}, Site: place{40.200, 64.450}}, // Shofirkon
	}
}

// hotspot is a place that attracts crime: a market (bozor), a bus or
// railway station. Weight is relative; SpreadKm the standard deviation.
type hotspot struct {
	Name     string
	At       place
	Weight   float64
	SpreadKm float64
}

// hotspots lists markets and stations; every district centre also gets
// its bozor (added by the generator).
func hotspots() []hotspot {
	return []hotspot{
		{"Qarshi markaziy dehqon bozori", place{38.866, 65.796}, 10, 0.25},
		{"Qarshi temir yo'l vokzali", place{38.846, 65.773}, 5, 0.2},
		{"Qarshi avtostansiyasi", place{38.874, 65.812}, 4, 0.2},
		{"Qarshi Nasaf bozori", place{38.851, 65.806}, 4, 0.2},
		{"Shahrisabz dehqon bozori", place{39.053, 66.833}, 6, 0.2},
		{"Shahrisabz avtostansiyasi", place{39.046, 66.818}, 3, 0.2},
		{"Kogon temir yo'l vokzali", place{39.721, 64.547}, 6, 0.2},
		{"Kogon dehqon bozori", place{39.727, 64.556}, 4, 0.2},
		{"Buxoro markaziy bozori", place{39.776, 64.428}, 7, 0.25},
		{"Buxoro avtovokzali", place{39.789, 64.403}, 3, 0.2},
		{"G'uzor bozori", place{38.622, 66.252}, 3, 0.2},
		{"Koson bozori", place{39.039, 65.588}, 2.5, 0.2},
		{"Kitob bozori", place{39.120, 66.877}, 2.5, 0.2},
	}
}

// roads are the main roads (polylines through centres) where most road
// accidents happen; Traffic is a relative weight per km.
type road struct {
	Name    string
	Via     []place
	Traffic float64
}

func roads() []road {
	qarshi := place{38.862, 65.790}
	shahrisabz := place{39.057, 66.830}
	bukhara := place{39.775, 64.420}
	kogon := place{39.722, 64.550}
	return []road{
		{"A-380 Buxoro - Qarshi", []place{bukhara, kogon, {39.500, 64.800}, {39.250, 65.150}, {39.037, 65.585}, qarshi}, 1.0},
		{"A-380 Qarshi - G'uzor", []place{qarshi, {38.760, 65.980}, {38.620, 66.248}, {38.450, 66.420}, {38.352, 66.500}}, 1.0},
		{"Qarshi - Chiroqchi - Shahrisabz", []place{qarshi, {38.950, 66.100}, {39.033, 66.572}, {39.050, 66.700}, shahrisabz, {39.118, 66.880}}, 0.9},
		{"Qarshi - Beshkent - Nishon", []place{qarshi, {38.818, 65.650}, {38.640, 65.675}}, 0.6},
		{"Qarshi - Qamashi - Yakkabog'", []place{qarshi, {38.822, 66.460}, {38.915, 66.740}, shahrisabz}, 0.5},
		{"Qarshi - Mirishkor", []place{qarshi, {38.955, 65.435}, {38.880, 65.230}}, 0.4},
		{"M-37 Buxoro - Olot", []place{bukhara, {39.740, 64.210}, {39.500, 63.853}, {39.418, 63.803}}, 0.9},
		{"Buxoro - G'ijduvon", []place{bukhara, {39.930, 64.380}, {40.030, 64.515}, {40.100, 64.682}, {40.150, 65.000}}, 0.8},
		{"Buxoro - Shofirkon", []place{bukhara, {39.860, 64.455}, {40.120, 64.500}}, 0.5},
	}
}

// mahallaName is a common mahalla name in Uzbek Latin, Cyrillic and Russian.
type mahallaName struct{ Uz, Cyrl, Ru string }

// commonMahallaNames are names found in many districts of Uzbekistan.
func commonMahallaNames() []mahallaName {
	return []mahallaName{
		{"Navbahor", "Навбаҳор", "Навбахор"},
		{"Guliston", "Гулистон", "Гулистан"},
		{"Mustaqillik", "Мустақиллик", "Мустакиллик"},
		{"Do'stlik", "Дўстлик", "Дустлик"},
		{"Yangi hayot", "Янги ҳаёт", "Янги хаёт"},
		{"Bog'ishamol", "Боғишамол", "Богишамол"},
		{"Istiqlol", "Истиқлол", "Истиклол"},
		{"Obod", "Обод", "Обод"},
		{"Tinchlik", "Тинчлик", "Тинчлик"},
		{"Navro'z", "Наврўз", "Навруз"},
		{"Oqtepa", "Оқтепа", "Актепа"},
		{"Bahor", "Баҳор", "Бахор"},
		{"Ma'rifat", "Маърифат", "Маърифат"},
		{"Bunyodkor", "Бунёдкор", "Бунёдкор"},
		{"Ziyokor", "Зиёкор", "Зиёкор"},
		{"Nurafshon", "Нурафшон", "Нурафшан"},
		{"Mehnatobod", "Меҳнатобод", "Мехнатабад"},
		{"Yangiobod", "Янгиобод", "Янгиабад"},
		{"Bog'bon", "Боғбон", "Богбон"},
		{"Paxtakor", "Пахтакор", "Пахтакор"},
		{"Sohibkor", "Соҳибкор", "Сохибкор"},
		{"Chinor", "Чинор", "Чинар"},
		{"Ko'kterak", "Кўктерак", "Коктерак"},
		{"Qo'rg'oncha", "Қўрғонча", "Курганча"},
		{"Olmazor", "Олмазор", "Алмазар"},
		{"Gulbahor", "Гулбаҳор", "Гулбахор"},
		{"Mirobod", "Миробод", "Мирабад"},
		{"Yoshlik", "Ёшлик", "Ёшлик"},
		{"Hamkorlik", "Ҳамкорлик", "Хамкорлик"},
		{"Birlik", "Бирлик", "Бирлик"},
		{"Fayzobod", "Файзобод", "Файзабад"},
		{"Bo'ston", "Бўстон", "Бустан"},
		{"Sharq", "Шарқ", "Шарк"},
		{"Ravshan", "Равшан", "Равшан"},
		{"Zafar", "Зафар", "Зафар"},
		{"Farovon", "Фаровон", "Фаравон"},
		{"Ibn Sino", "Ибн Сино", "Ибн Сино"},
		{"Alisher Navoiy", "Алишер Навоий", "Алишер Навои"},
		{"Amir Temur", "Амир Темур", "Амир Темур"},
		{"Mirzo Ulug'bek", "Мирзо Улуғбек", "Мирзо Улугбек"},
		{"Bobur", "Бобур", "Бабур"},
		{"Nasaf", "Насаф", "Насаф"},
		{"Kesh", "Кеш", "Кеш"},
		{"Qadriyat", "Қадрият", "Кадрият"},
		{"Ittifoq", "Иттифоқ", "Иттифок"},
		{"Oydin", "Ойдин", "Ойдин"},
		{"Yulduz", "Юлдуз", "Юлдуз"},
		{"Mevazor", "Мевазор", "Мевазор"},
		{"Bog'iston", "Боғистон", "Богистан"},
		{"Saodat", "Саодат", "Саодат"},
		{"Umid", "Умид", "Умид"},
		{"Tong", "Тонг", "Тонг"},
		{"Oltin vodiy", "Олтин водий", "Олтин водий"},
		{"Qizilravot", "Қизилравот", "Кызылрават"},
		{"Yangi turmush", "Янги турмуш", "Янги турмуш"},
		{"Sarbon", "Сарбон", "Сарбон"},
		{"Shodlik", "Шодлик", "Шодлик"},
		{"Marvarid", "Марварид", "Марварид"},
		{"Soy bo'yi", "Сой бўйи", "Сой буйи"},
		{"Tepaqo'rg'on", "Тепақўрғон", "Тепакурган"},
	}
}
