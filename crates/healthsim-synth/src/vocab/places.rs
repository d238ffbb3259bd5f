//! Where people live: metro areas (ZIP codes, county FIPS, telephone area code, population
//! weight) and street names.
//!
//! A scenario draws a seeded subset of the metros, more as its population grows; people, providers,
//! facilities and pharmacies are placed in those metros so care stays local.

/// A metropolitan area people live in.
pub(crate) struct City {
    pub(crate) name: &'static str,
    pub(crate) state: &'static str,
    pub(crate) county_fips: &'static str,
    pub(crate) zips: [&'static str; 3],
    pub(crate) area_code: &'static str,
    /// Relative population weight.
    pub(crate) weight: u32,
}

const fn city(
    name: &'static str,
    state: &'static str,
    county_fips: &'static str,
    zips: [&'static str; 3],
    area_code: &'static str,
    weight: u32,
) -> City {
    City {
        name,
        state,
        county_fips,
        zips,
        area_code,
        weight,
    }
}

/// Metro areas; a scenario uses a seeded subset whose size grows with the population.
#[rustfmt::skip]
pub(crate) static CITIES: &[City] = &[
    city("Phoenix", "AZ", "04013", ["85004", "85016", "85032"], "602", 16),
    city("Houston", "TX", "48201", ["77002", "77030", "77084"], "713", 23),
    city("Chicago", "IL", "17031", ["60614", "60625", "60629"], "312", 27),
    city("Los Angeles", "CA", "06037", ["90011", "90026", "90044"], "213", 38),
    city("San Diego", "CA", "06073", ["92101", "92105", "92117"], "619", 14),
    city("Miami", "FL", "12086", ["33125", "33142", "33186"], "305", 12),
    city("Atlanta", "GA", "13121", ["30309", "30310", "30318"], "404", 8),
    city("Seattle", "WA", "53033", ["98103", "98105", "98118"], "206", 9),
    city("Denver", "CO", "08031", ["80204", "80211", "80219"], "303", 7),
    city("Boston", "MA", "25025", ["02118", "02124", "02128"], "617", 7),
    city("Philadelphia", "PA", "42101", ["19104", "19120", "19143"], "215", 15),
    city("Brooklyn", "NY", "36047", ["11201", "11215", "11226"], "718", 26),
    city("Columbus", "OH", "39049", ["43201", "43207", "43229"], "614", 9),
    city("Charlotte", "NC", "37119", ["28202", "28205", "28269"], "704", 9),
    city("Nashville", "TN", "47037", ["37203", "37206", "37211"], "615", 7),
    city("Minneapolis", "MN", "27053", ["55404", "55407", "55411"], "612", 6),
    city("Detroit", "MI", "26163", ["48201", "48205", "48228"], "313", 6),
    city("St. Louis", "MO", "29510", ["63104", "63110", "63116"], "314", 3),
    city("Albuquerque", "NM", "35001", ["87102", "87108", "87120"], "505", 6),
    city("Portland", "OR", "41051", ["97202", "97206", "97217"], "503", 6),
    city("Salt Lake City", "UT", "49035", ["84102", "84104", "84106"], "801", 2),
    city("Las Vegas", "NV", "32003", ["89101", "89108", "89123"], "702", 6),
];

/// Street names for addresses.
pub(crate) static STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple St",
    "Cedar Ln",
    "Pine St",
    "Elm St",
    "Washington Ave",
    "Lake Dr",
    "Hill Rd",
    "Park Ave",
    "Sunset Blvd",
    "Lincoln Way",
    "Jefferson St",
    "River Rd",
    "Church St",
    "Highland Ave",
    "Franklin St",
    "Willow Ct",
    "Meadow Ln",
    "Spring St",
    "Broadway",
    "Madison Ave",
    "Chestnut St",
    "Walnut St",
    "Ridge Rd",
    "Mesa Dr",
];
