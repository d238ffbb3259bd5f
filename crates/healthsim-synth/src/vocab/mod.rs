//! The generator's vocabularies: names, places, codes, prices and prevalences.
//!
//! Codes come from the real terminologies each table imitates: ICD-10-CM diagnoses, CPT / HCPCS
//! procedures with UB-04 revenue codes, LOINC laboratory tests, RxNorm clinical drugs, NUCC provider
//! taxonomy, CARC adjustment reasons and MedDRA preferred terms. NDCs are plausible 11-digit
//! package codes, not checked against the FDA directory. Prevalences are rounded US adult figures
//! (CDC / NHANES orders of magnitude) by age band; prices are typical US list charges. The data is
//! synthetic: names are common first and family names, SSNs start with 9 (never issued) and phone
//! numbers use the fictional 555-01xx range.

/// Age bands used by prevalence tables: 0–17, 18–44, 45–64, 65+.
pub(crate) const AGE_BANDS: usize = 4;

/// The age band of an age in years.
pub(crate) fn age_band(age: u32) -> usize {
    match age {
        0..=17 => 0,
        18..=44 => 1,
        45..=64 => 2,
        _ => 3,
    }
}

// ------------------------------------------------------------------ people and places

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

/// Common US female given names.
pub(crate) static FEMALE_NAMES: &[&str] = &[
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Lisa",
    "Nancy",
    "Betty",
    "Sandra",
    "Margaret",
    "Ashley",
    "Kimberly",
    "Emily",
    "Donna",
    "Michelle",
    "Carol",
    "Amanda",
    "Melissa",
    "Deborah",
    "Stephanie",
    "Rebecca",
    "Laura",
    "Helen",
    "Sharon",
    "Cynthia",
    "Maria",
    "Guadalupe",
    "Rosa",
    "Mei",
    "Priya",
    "Aisha",
    "Keisha",
    "Olivia",
    "Emma",
    "Sophia",
    "Ava",
    "Isabella",
    "Mia",
    "Camila",
    "Linh",
    "Fatima",
];

/// Common US male given names.
pub(crate) static MALE_NAMES: &[&str] = &[
    "James",
    "Robert",
    "John",
    "Michael",
    "David",
    "William",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Christopher",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "Andrew",
    "Joshua",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Timothy",
    "Ronald",
    "Jason",
    "Edward",
    "Jose",
    "Luis",
    "Carlos",
    "Juan",
    "Wei",
    "Raj",
    "Ahmed",
    "DeShawn",
    "Malik",
    "Liam",
    "Noah",
    "Ethan",
    "Mateo",
    "Lucas",
    "Minh",
    "Hiroshi",
    "Omar",
];

/// Common US family names.
pub(crate) static FAMILY_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Chen",
    "Kim",
    "Patel",
    "Wang",
    "Singh",
    "Tran",
    "Washington",
    "Jefferson",
    "Okafor",
    "Cohen",
    "Murphy",
    "O'Brien",
    "Sullivan",
    "Kowalski",
    "Yamamoto",
    "Ali",
    "Begay",
    "Kahale",
];

/// Middle names (used as given; many people have none).
pub(crate) static MIDDLE_NAMES: &[&str] = &[
    "Ann",
    "Marie",
    "Lynn",
    "Lee",
    "Michael",
    "James",
    "Elizabeth",
    "Louise",
    "Ray",
    "Allen",
    "Jean",
    "Grace",
    "Alexander",
    "Jose",
    "Maria",
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

/// OMB race categories (US Core race) with rough US shares.
pub(crate) static RACES: &[(&str, u32)] = &[
    ("White", 600),
    ("Black or African American", 130),
    ("Asian", 60),
    ("American Indian or Alaska Native", 12),
    ("Native Hawaiian or Other Pacific Islander", 5),
    ("Other", 60),
    ("Two or more races", 40),
];

/// US Core ethnicity.
pub(crate) const HISPANIC: &str = "Hispanic or Latino";
/// US Core ethnicity.
pub(crate) const NOT_HISPANIC: &str = "Not Hispanic or Latino";

/// Preferred languages (BCP 47) with rough US shares.
pub(crate) static LANGUAGES: &[(&str, u32)] = &[
    ("en", 780),
    ("es", 135),
    ("zh", 12),
    ("vi", 5),
    ("tl", 6),
    ("ar", 4),
    ("ko", 3),
];

// ------------------------------------------------------------------ providers and places of care

/// Role of a provider specialty in care delivery.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Primary care for adults.
    AdultPrimary,
    /// Primary care for children.
    ChildPrimary,
    /// Emergency department.
    Emergency,
    /// Inpatient attending.
    Hospitalist,
    /// Outpatient specialist.
    Specialist,
}

/// A provider specialty (NUCC taxonomy).
pub(crate) struct Specialty {
    pub(crate) name: &'static str,
    pub(crate) taxonomy: &'static str,
    pub(crate) credentials: &'static [&'static str],
    pub(crate) role: Role,
    /// Practice name pattern: `{city}` is replaced by the city name.
    pub(crate) practice: &'static str,
}

/// Specialty index: family medicine.
pub(crate) const FAMILY_MEDICINE: usize = 0;
/// Specialty index: internal medicine.
pub(crate) const INTERNAL_MEDICINE: usize = 1;
/// Specialty index: emergency medicine.
pub(crate) const EMERGENCY_MEDICINE: usize = 2;
/// Specialty index: hospitalist.
pub(crate) const HOSPITALIST: usize = 3;
/// Specialty index: pediatrics.
pub(crate) const PEDIATRICS: usize = 4;
/// Specialty index: cardiology.
pub(crate) const CARDIOLOGY: usize = 7;
/// Specialty index: endocrinology.
pub(crate) const ENDOCRINOLOGY: usize = 8;
/// Specialty index: nephrology.
pub(crate) const NEPHROLOGY: usize = 9;
/// Specialty index: pulmonology.
pub(crate) const PULMONOLOGY: usize = 10;
/// Specialty index: psychiatry.
pub(crate) const PSYCHIATRY: usize = 11;

/// Provider specialties, indexed by the constants above.
pub(crate) static SPECIALTIES: &[Specialty] = &[
    Specialty {
        name: "Family Medicine",
        taxonomy: "207Q00000X",
        credentials: &["MD", "MD", "DO"],
        role: Role::AdultPrimary,
        practice: "{city} Family Medicine Associates",
    },
    Specialty {
        name: "Internal Medicine",
        taxonomy: "207R00000X",
        credentials: &["MD", "MD", "DO"],
        role: Role::AdultPrimary,
        practice: "{city} Internal Medicine Group",
    },
    Specialty {
        name: "Emergency Medicine",
        taxonomy: "207P00000X",
        credentials: &["MD", "DO"],
        role: Role::Emergency,
        practice: "{city} Emergency Physicians",
    },
    Specialty {
        name: "Hospitalist",
        taxonomy: "208M00000X",
        credentials: &["MD", "DO"],
        role: Role::Hospitalist,
        practice: "{city} Hospitalist Partners",
    },
    Specialty {
        name: "Pediatrics",
        taxonomy: "208000000X",
        credentials: &["MD", "MD", "DO"],
        role: Role::ChildPrimary,
        practice: "{city} Pediatric Care",
    },
    Specialty {
        name: "Nurse Practitioner, Family",
        taxonomy: "363LF0000X",
        credentials: &["NP", "FNP-C"],
        role: Role::AdultPrimary,
        practice: "{city} Community Health",
    },
    Specialty {
        name: "Physician Assistant, Medical",
        taxonomy: "363AM0700X",
        credentials: &["PA-C"],
        role: Role::AdultPrimary,
        practice: "{city} Primary Care",
    },
    Specialty {
        name: "Cardiovascular Disease",
        taxonomy: "207RC0000X",
        credentials: &["MD", "DO"],
        role: Role::Specialist,
        practice: "{city} Heart & Vascular",
    },
    Specialty {
        name: "Endocrinology, Diabetes & Metabolism",
        taxonomy: "207RE0101X",
        credentials: &["MD"],
        role: Role::Specialist,
        practice: "{city} Diabetes & Endocrine Center",
    },
    Specialty {
        name: "Nephrology",
        taxonomy: "207RN0300X",
        credentials: &["MD"],
        role: Role::Specialist,
        practice: "{city} Kidney Specialists",
    },
    Specialty {
        name: "Pulmonary Disease",
        taxonomy: "207RP1001X",
        credentials: &["MD", "DO"],
        role: Role::Specialist,
        practice: "{city} Lung & Sleep Clinic",
    },
    Specialty {
        name: "Psychiatry",
        taxonomy: "2084P0800X",
        credentials: &["MD", "DO"],
        role: Role::Specialist,
        practice: "{city} Behavioral Health",
    },
];

/// The order specialties are handed out within a metro: every metro with at least this many
/// providers has primary care for adults and children, an ED physician, a hospitalist and each
/// specialist.
pub(crate) static SPECIALTY_CYCLE: &[usize] = &[
    FAMILY_MEDICINE,
    INTERNAL_MEDICINE,
    EMERGENCY_MEDICINE,
    HOSPITALIST,
    PEDIATRICS,
    5,
    CARDIOLOGY,
    ENDOCRINOLOGY,
    FAMILY_MEDICINE,
    PULMONOLOGY,
    PSYCHIATRY,
    6,
    NEPHROLOGY,
    INTERNAL_MEDICINE,
    EMERGENCY_MEDICINE,
    FAMILY_MEDICINE,
];

/// A kind of facility.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FacilityKind {
    /// Acute care hospital with an emergency department.
    Hospital,
    /// Outpatient clinic.
    Clinic,
    /// Urgent care center.
    UrgentCare,
}

impl FacilityKind {
    /// The `facility_type` code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            FacilityKind::Hospital => "hospital",
            FacilityKind::Clinic => "clinic",
            FacilityKind::UrgentCare => "urgent_care",
        }
    }
}

/// The order facility kinds are handed out within a metro (every metro gets one of each first).
pub(crate) static FACILITY_CYCLE: &[FacilityKind] = &[
    FacilityKind::Hospital,
    FacilityKind::Clinic,
    FacilityKind::UrgentCare,
    FacilityKind::Clinic,
    FacilityKind::Clinic,
    FacilityKind::Hospital,
    FacilityKind::Clinic,
    FacilityKind::UrgentCare,
];

/// Hospital name patterns (`{city}` is replaced).
pub(crate) static HOSPITAL_NAMES: &[&str] = &[
    "{city} General Hospital",
    "{city} Regional Medical Center",
    "Mercy Hospital {city}",
    "St. Luke's {city} Medical Center",
    "{city} University Hospital",
    "Memorial Hospital of {city}",
];

/// Clinic name patterns.
pub(crate) static CLINIC_NAMES: &[&str] = &[
    "{city} Family Health Clinic",
    "Northside Primary Care {city}",
    "{city} Community Health Center",
    "Riverside Medical Group {city}",
    "Southside Health Partners {city}",
];

/// Urgent care name patterns.
pub(crate) static URGENT_CARE_NAMES: &[&str] = &[
    "{city} Urgent Care",
    "FastCare Walk-In Clinic {city}",
    "{city} Express Urgent Care",
];

/// A pharmacy chain: name, chain name (None for independents).
pub(crate) static RETAIL_PHARMACIES: &[(&str, Option<&str>)] = &[
    ("CVS Pharmacy", Some("CVS Health")),
    ("Walgreens", Some("Walgreens Boots Alliance")),
    ("Walmart Pharmacy", Some("Walmart")),
    ("Kroger Pharmacy", Some("Kroger")),
    ("Rite Aid Pharmacy", Some("Rite Aid")),
    ("{city} Community Pharmacy", None),
    ("Costco Pharmacy", Some("Costco")),
];

// ------------------------------------------------------------------ diagnoses

/// A chronic condition a person may have, with prevalence by age band.
pub(crate) struct Condition {
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
    /// Chance of having it, per age band (before risk multipliers).
    pub(crate) prevalence: [f64; AGE_BANDS],
    /// Reason for a follow-up visit.
    pub(crate) complaint: &'static str,
    /// Specialist seen for it (sometimes), if any.
    pub(crate) specialty: Option<usize>,
    /// Drugs that treat it: `(drug index, percent of treated patients on it)`.
    pub(crate) drugs: &'static [(usize, u32)],
    /// Take exactly one of `drugs` (weights) instead of each independently (percents).
    pub(crate) one_of: bool,
}

/// Condition index: obesity (evaluated first: it raises other risks).
pub(crate) const OBESITY: usize = 0;
/// Condition index: essential hypertension.
pub(crate) const HYPERTENSION: usize = 1;
/// Condition index: hyperlipidemia.
pub(crate) const HYPERLIPIDEMIA: usize = 2;
/// Condition index: type 2 diabetes.
pub(crate) const DIABETES: usize = 3;
/// Condition index: CKD stage 3 (after diabetes and hypertension, which raise it).
pub(crate) const CKD: usize = 4;
/// Condition index: COPD.
pub(crate) const COPD: usize = 5;
/// Condition index: asthma.
pub(crate) const ASTHMA: usize = 6;
/// Condition index: age-related osteoporosis.
pub(crate) const OSTEOPOROSIS: usize = 16;
/// Condition index: heart failure.
pub(crate) const HEART_FAILURE: usize = 9;
/// Condition index: atrial fibrillation.
pub(crate) const AFIB: usize = 10;
/// Condition index: hypothyroidism.
pub(crate) const HYPOTHYROIDISM: usize = 11;
/// Condition index: obstructive sleep apnea.
pub(crate) const SLEEP_APNEA: usize = 14;
/// Condition index: coronary artery disease.
pub(crate) const CAD: usize = 15;
/// Condition index: anemia.
pub(crate) const ANEMIA: usize = 19;

/// Chronic conditions (ICD-10-CM), in evaluation order.
pub(crate) static CONDITIONS: &[Condition] = &[
    Condition {
        code: "E66.9",
        description: "Obesity, unspecified",
        prevalence: [0.10, 0.20, 0.26, 0.22],
        complaint: "Weight management follow-up",
        specialty: None,
        drugs: &[],
        one_of: false,
    },
    Condition {
        code: "I10",
        description: "Essential (primary) hypertension",
        prevalence: [0.01, 0.14, 0.45, 0.67],
        complaint: "Blood pressure follow-up",
        specialty: Some(CARDIOLOGY),
        drugs: &[(2, 60), (3, 25), (4, 15)],
        one_of: true,
    },
    Condition {
        code: "E78.5",
        description: "Hyperlipidemia, unspecified",
        prevalence: [0.005, 0.10, 0.33, 0.48],
        complaint: "Cholesterol follow-up",
        specialty: None,
        drugs: &[(5, 100)],
        one_of: false,
    },
    Condition {
        code: "E11.9",
        description: "Type 2 diabetes mellitus without complications",
        prevalence: [0.003, 0.04, 0.15, 0.24],
        complaint: "Diabetes follow-up",
        specialty: Some(ENDOCRINOLOGY),
        drugs: &[(0, 100), (1, 30)],
        one_of: false,
    },
    Condition {
        code: "N18.30",
        description: "Chronic kidney disease, stage 3 unspecified",
        prevalence: [0.0, 0.008, 0.03, 0.10],
        complaint: "Kidney function follow-up",
        specialty: Some(NEPHROLOGY),
        drugs: &[],
        one_of: false,
    },
    Condition {
        code: "J44.9",
        description: "Chronic obstructive pulmonary disease, unspecified",
        prevalence: [0.0, 0.01, 0.05, 0.11],
        complaint: "Shortness of breath follow-up",
        specialty: Some(PULMONOLOGY),
        drugs: &[(7, 100), (6, 80)],
        one_of: false,
    },
    Condition {
        code: "J45.909",
        description: "Unspecified asthma, uncomplicated",
        prevalence: [0.08, 0.08, 0.08, 0.07],
        complaint: "Asthma check",
        specialty: Some(PULMONOLOGY),
        drugs: &[(6, 100)],
        one_of: false,
    },
    Condition {
        code: "F32.9",
        description: "Major depressive disorder, single episode, unspecified",
        prevalence: [0.03, 0.09, 0.08, 0.06],
        complaint: "Low mood follow-up",
        specialty: Some(PSYCHIATRY),
        drugs: &[(8, 100)],
        one_of: false,
    },
    Condition {
        code: "F41.9",
        description: "Anxiety disorder, unspecified",
        prevalence: [0.05, 0.11, 0.09, 0.06],
        complaint: "Anxiety follow-up",
        specialty: Some(PSYCHIATRY),
        drugs: &[(9, 100)],
        one_of: false,
    },
    Condition {
        code: "I50.9",
        description: "Heart failure, unspecified",
        prevalence: [0.0, 0.003, 0.02, 0.08],
        complaint: "Leg swelling and shortness of breath",
        specialty: Some(CARDIOLOGY),
        drugs: &[(10, 100), (11, 100)],
        one_of: false,
    },
    Condition {
        code: "I48.91",
        description: "Unspecified atrial fibrillation",
        prevalence: [0.0, 0.002, 0.02, 0.09],
        complaint: "Palpitations follow-up",
        specialty: Some(CARDIOLOGY),
        drugs: &[(12, 100)],
        one_of: false,
    },
    Condition {
        code: "E03.9",
        description: "Hypothyroidism, unspecified",
        prevalence: [0.005, 0.04, 0.08, 0.13],
        complaint: "Thyroid follow-up",
        specialty: Some(ENDOCRINOLOGY),
        drugs: &[(13, 100)],
        one_of: false,
    },
    Condition {
        code: "K21.9",
        description: "Gastro-esophageal reflux disease without esophagitis",
        prevalence: [0.02, 0.10, 0.16, 0.18],
        complaint: "Heartburn",
        specialty: None,
        drugs: &[(14, 100)],
        one_of: false,
    },
    Condition {
        code: "M19.90",
        description: "Unspecified osteoarthritis, unspecified site",
        prevalence: [0.0, 0.02, 0.14, 0.30],
        complaint: "Joint pain",
        specialty: None,
        drugs: &[(15, 100)],
        one_of: false,
    },
    Condition {
        code: "G47.33",
        description: "Obstructive sleep apnea (adult) (pediatric)",
        prevalence: [0.005, 0.035, 0.08, 0.09],
        complaint: "Daytime sleepiness",
        specialty: Some(PULMONOLOGY),
        drugs: &[],
        one_of: false,
    },
    Condition {
        code: "I25.10",
        description:
            "Atherosclerotic heart disease of native coronary artery without angina pectoris",
        prevalence: [0.0, 0.005, 0.05, 0.14],
        complaint: "Coronary artery disease follow-up",
        specialty: Some(CARDIOLOGY),
        drugs: &[(16, 100)],
        one_of: false,
    },
    Condition {
        code: "M81.0",
        description: "Age-related osteoporosis without current pathological fracture",
        prevalence: [0.0, 0.0, 0.02, 0.10],
        complaint: "Bone density follow-up",
        specialty: None,
        drugs: &[(17, 100)],
        one_of: false,
    },
    Condition {
        code: "E55.9",
        description: "Vitamin D deficiency, unspecified",
        prevalence: [0.02, 0.05, 0.06, 0.06],
        complaint: "Fatigue",
        specialty: None,
        drugs: &[(18, 100)],
        one_of: false,
    },
    Condition {
        code: "G43.909",
        description: "Migraine, unspecified, not intractable, without status migrainosus",
        prevalence: [0.03, 0.10, 0.07, 0.02],
        complaint: "Recurrent headaches",
        specialty: None,
        drugs: &[(19, 100)],
        one_of: false,
    },
    Condition {
        code: "D64.9",
        description: "Anemia, unspecified",
        prevalence: [0.02, 0.04, 0.05, 0.09],
        complaint: "Fatigue",
        specialty: None,
        drugs: &[(20, 100)],
        one_of: false,
    },
    Condition {
        code: "F17.210",
        description: "Nicotine dependence, cigarettes, uncomplicated",
        prevalence: [0.005, 0.12, 0.13, 0.08],
        complaint: "Smoking cessation",
        specialty: None,
        drugs: &[(21, 30)],
        one_of: false,
    },
    Condition {
        code: "G89.29",
        description: "Other chronic pain",
        prevalence: [0.0, 0.03, 0.06, 0.07],
        complaint: "Chronic pain follow-up",
        specialty: None,
        drugs: &[(28, 50), (29, 50)],
        one_of: true,
    },
];

/// Where an acute diagnosis can be the reason for a visit (bit flags).
pub(crate) const IN_OFFICE: u8 = 1;
/// Telehealth visit.
pub(crate) const IN_TELEHEALTH: u8 = 2;
/// Emergency department.
pub(crate) const IN_ED: u8 = 4;
/// Inpatient admission.
pub(crate) const IN_HOSPITAL: u8 = 8;

/// An acute reason for a visit (ICD-10-CM).
pub(crate) struct Acute {
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
    pub(crate) complaint: &'static str,
    /// Settings (bit flags above).
    pub(crate) settings: u8,
    /// Relative frequency.
    pub(crate) weight: u32,
    /// MS-DRG when it leads to an admission.
    pub(crate) drg: Option<&'static str>,
    /// Drug commonly prescribed for it.
    pub(crate) drug: Option<usize>,
    /// Extra procedures done for it.
    pub(crate) procedures: &'static [&'static Proc],
    /// The condition it is an exacerbation of, if any (only chosen for people who have it).
    pub(crate) requires: Option<usize>,
    /// Days until it usually resolves.
    pub(crate) resolves_in_days: i64,
    /// Youngest age it is chosen for.
    pub(crate) min_age: u32,
}

// Positional constructors keep the tables below one row per entry.
#[allow(clippy::too_many_arguments)]
const fn acute(
    code: &'static str,
    description: &'static str,
    complaint: &'static str,
    settings: u8,
    weight: u32,
    drg: Option<&'static str>,
    drug: Option<usize>,
    procedures: &'static [&'static Proc],
    requires: Option<usize>,
    resolves_in_days: i64,
    min_age: u32,
) -> Acute {
    Acute {
        code,
        description,
        complaint,
        settings,
        weight,
        drg,
        drug,
        procedures,
        requires,
        resolves_in_days,
        min_age,
    }
}

const O: u8 = IN_OFFICE;
const T: u8 = IN_TELEHEALTH;
const E: u8 = IN_ED;
const H: u8 = IN_HOSPITAL;

/// Acute reasons for visits and admissions.
#[rustfmt::skip]
pub(crate) static ACUTES: &[Acute] = &[
    acute("J06.9", "Acute upper respiratory infection, unspecified", "Cough and congestion", O | T | E, 30, None, None, &[], None, 10, 0),
    acute("J02.9", "Acute pharyngitis, unspecified", "Sore throat", O | T | E, 14, None, Some(22), &[&CPT_87880], None, 7, 0),
    acute("N39.0", "Urinary tract infection, site not specified", "Painful urination", O | T | E | H, 12, Some("690"), Some(23), &[&CPT_81003], None, 7, 0),
    acute("M54.50", "Low back pain, unspecified", "Low back pain", O | T | E, 14, None, Some(25), &[], None, 21, 12),
    acute("R51.9", "Headache, unspecified", "Headache", O | T | E, 8, None, None, &[], None, 3, 0),
    acute("K52.9", "Noninfective gastroenteritis and colitis, unspecified", "Nausea and diarrhea", O | E, 8, None, Some(26), &[], None, 5, 0),
    acute("R07.9", "Chest pain, unspecified", "Chest pain", E, 14, None, None, &[&CPT_93000, &CPT_71046], None, 2, 12),
    acute("R10.9", "Unspecified abdominal pain", "Abdominal pain", E, 12, None, None, &[&CPT_74177], None, 4, 0),
    acute("S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter", "Ankle injury", O | E, 8, None, Some(25), &[&CPT_73610], None, 21, 5),
    acute("S61.411A", "Laceration without foreign body of right hand, initial encounter", "Cut on hand", E, 6, None, None, &[&CPT_12002], None, 14, 0),
    acute("R55", "Syncope and collapse", "Fainting", E, 4, None, None, &[&CPT_93000], None, 1, 0),
    acute("J18.9", "Pneumonia, unspecified organism", "Fever and shortness of breath", E | H, 7, Some("194"), Some(24), &[&CPT_71046], None, 21, 0),
    acute("U07.1", "COVID-19", "Fever and cough", T | E | H, 5, Some("177"), None, &[], None, 14, 0),
    acute("A41.9", "Sepsis, unspecified organism", "Fever and confusion", H, 4, Some("871"), None, &[], None, 21, 0),
    acute("I21.4", "Non-ST elevation (NSTEMI) myocardial infarction", "Crushing chest pain", H, 3, Some("281"), None, &[&CPT_93000], None, 28, 30),
    acute("N17.9", "Acute kidney failure, unspecified", "Decreased urination", H, 3, Some("683"), None, &[], None, 21, 18),
    acute("K35.80", "Unspecified acute appendicitis", "Right lower quadrant pain", H, 3, Some("343"), None, &[&CPT_44970], None, 14, 5),
    acute("I50.9", "Heart failure, unspecified", "Shortness of breath and leg swelling", E | H, 12, Some("292"), None, &[&CPT_93000, &CPT_71046], Some(HEART_FAILURE), 14, 0),
    acute("J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation", "Worsening shortness of breath", E | H, 12, Some("191"), Some(27), &[&CPT_71046, &CPT_94640], Some(COPD), 14, 0),
    acute("J45.901", "Unspecified asthma with (acute) exacerbation", "Wheezing", O | E, 10, Some("203"), Some(27), &[&CPT_94640], Some(ASTHMA), 7, 0),
    acute("I48.91", "Unspecified atrial fibrillation", "Racing heart", E | H, 8, Some("309"), None, &[&CPT_93000], Some(AFIB), 3, 0),
];

/// Preventive visit for adults.
pub(crate) static WELLNESS_ADULT: (&str, &str) = (
    "Z00.00",
    "Encounter for general adult medical examination without abnormal findings",
);
/// Preventive visit for children.
pub(crate) static WELLNESS_CHILD: (&str, &str) = (
    "Z00.129",
    "Encounter for routine child health examination without abnormal findings",
);

// ------------------------------------------------------------------ procedures and charges

/// A billable procedure: CPT/HCPCS code (optional on institutional room lines), UB-04 revenue
/// code for facility claims, list charge per unit in cents, and whether it is an E/M visit (copays
/// apply to those).
pub(crate) struct Proc {
    pub(crate) code: Option<&'static str>,
    pub(crate) revenue: &'static str,
    pub(crate) fee: i64,
    pub(crate) em: bool,
}

macro_rules! procs {
    ($($name:ident = $code:expr, $rev:expr, $fee:expr, $em:expr;)*) => {
        $(
            #[doc = concat!("Procedure ", stringify!($name), ".")]
            pub(crate) static $name: Proc = Proc { code: $code, revenue: $rev, fee: $fee, em: $em };
        )*
    };
}

procs! {
    CPT_99203 = Some("99203"), "0510", 18_000, true;
    CPT_99204 = Some("99204"), "0510", 27_000, true;
    CPT_99212 = Some("99212"), "0510", 9_500, true;
    CPT_99213 = Some("99213"), "0510", 14_500, true;
    CPT_99214 = Some("99214"), "0510", 21_000, true;
    CPT_99215 = Some("99215"), "0510", 29_000, true;
    CPT_99392 = Some("99392"), "0510", 21_000, true;
    CPT_99393 = Some("99393"), "0510", 21_000, true;
    CPT_99394 = Some("99394"), "0510", 23_000, true;
    CPT_99395 = Some("99395"), "0510", 25_000, true;
    CPT_99396 = Some("99396"), "0510", 26_500, true;
    CPT_99397 = Some("99397"), "0510", 28_000, true;
    CPT_99283 = Some("99283"), "0450", 42_000, true;
    CPT_99284 = Some("99284"), "0450", 75_000, true;
    CPT_99285 = Some("99285"), "0450", 120_000, true;
    CPT_80048 = Some("80048"), "0301", 4_500, false;
    CPT_80061 = Some("80061"), "0301", 7_500, false;
    CPT_83036 = Some("83036"), "0301", 5_500, false;
    CPT_84443 = Some("84443"), "0301", 6_500, false;
    CPT_85025 = Some("85025"), "0305", 4_000, false;
    CPT_83880 = Some("83880"), "0301", 12_000, false;
    CPT_84484 = Some("84484"), "0301", 8_500, false;
    CPT_36415 = Some("36415"), "0300", 1_500, false;
    CPT_87880 = Some("87880"), "0306", 3_500, false;
    CPT_81003 = Some("81003"), "0307", 2_000, false;
    CPT_93000 = Some("93000"), "0730", 9_500, false;
    CPT_71046 = Some("71046"), "0324", 18_000, false;
    CPT_73610 = Some("73610"), "0320", 16_000, false;
    CPT_74177 = Some("74177"), "0350", 190_000, false;
    CPT_12002 = Some("12002"), "0450", 42_000, false;
    CPT_94640 = Some("94640"), "0410", 7_000, false;
    CPT_44970 = Some("44970"), "0360", 850_000, false;
    REV_ROOM_BOARD = None, "0120", 280_000, false;
    REV_PHARMACY = None, "0250", 90_000, false;
    REV_LAB = None, "0300", 65_000, false;
}

/// Preventive E/M code by age (established patient).
pub(crate) fn preventive_visit(age: u32) -> &'static Proc {
    match age {
        0..=4 => &CPT_99392,
        5..=11 => &CPT_99393,
        12..=17 => &CPT_99394,
        18..=39 => &CPT_99395,
        40..=64 => &CPT_99396,
        _ => &CPT_99397,
    }
}

// ------------------------------------------------------------------ laboratory

/// A LOINC laboratory test.
pub(crate) struct LabTest {
    pub(crate) loinc: &'static str,
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    /// Reference range for females, then males (`None`: no bound).
    pub(crate) range: [(Option<f64>, Option<f64>); 2],
    /// Decimal places reported.
    pub(crate) decimals: u8,
}

macro_rules! labs {
    ($($name:ident = $loinc:expr, $test:expr, $unit:expr, $f:expr, $m:expr, $dec:expr;)*) => {
        $(
            #[doc = concat!("LOINC test ", $loinc, " (", $test, ").")]
            pub(crate) static $name: LabTest = LabTest {
                loinc: $loinc, name: $test, unit: $unit, range: [$f, $m], decimals: $dec,
            };
        )*
    };
}

labs! {
    LAB_A1C = "4548-4", "Hemoglobin A1c", "%", (Some(4.0), Some(5.6)), (Some(4.0), Some(5.6)), 1;
    LAB_GLUCOSE = "2345-7", "Glucose", "mg/dL", (Some(70.0), Some(99.0)), (Some(70.0), Some(99.0)), 0;
    LAB_LDL = "13457-7", "LDL cholesterol (calculated)", "mg/dL", (None, Some(99.0)), (None, Some(99.0)), 0;
    LAB_CREATININE = "2160-0", "Creatinine", "mg/dL", (Some(0.59), Some(1.04)), (Some(0.74), Some(1.35)), 2;
    LAB_EGFR = "33914-3", "eGFR (MDRD)", "mL/min/{1.73_m2}", (Some(60.0), None), (Some(60.0), None), 0;
    LAB_SODIUM = "2951-2", "Sodium", "mmol/L", (Some(136.0), Some(145.0)), (Some(136.0), Some(145.0)), 0;
    LAB_POTASSIUM = "2823-3", "Potassium", "mmol/L", (Some(3.5), Some(5.1)), (Some(3.5), Some(5.1)), 1;
    LAB_HEMOGLOBIN = "718-7", "Hemoglobin", "g/dL", (Some(12.0), Some(15.5)), (Some(13.5), Some(17.5)), 1;
    LAB_WBC = "6690-2", "WBC count", "10*3/uL", (Some(4.5), Some(11.0)), (Some(4.5), Some(11.0)), 1;
    LAB_TSH = "3016-3", "TSH", "m[IU]/L", (Some(0.45), Some(4.5)), (Some(0.45), Some(4.5)), 2;
    LAB_NTPROBNP = "33762-6", "NT-proBNP", "pg/mL", (None, Some(125.0)), (None, Some(125.0)), 0;
    LAB_TROPONIN = "89579-7", "Troponin I (high sensitivity)", "ng/L", (None, Some(34.0)), (None, Some(34.0)), 0;
}

// ------------------------------------------------------------------ drugs

/// A drug (RxNorm clinical drug) and how it is usually dispensed.
pub(crate) struct Drug {
    pub(crate) name: &'static str,
    pub(crate) rxnorm: &'static str,
    pub(crate) ndc: &'static str,
    pub(crate) strength: &'static str,
    pub(crate) form: &'static str,
    pub(crate) route: &'static str,
    pub(crate) dose: &'static str,
    pub(crate) frequency: &'static str,
    /// Units dispensed for a 30-day supply (or for the whole course of an acute drug).
    pub(crate) units_per_fill: u32,
    /// Days a fill lasts.
    pub(crate) days_supply: u32,
    /// Ingredient cost per unit in tenths of a cent.
    pub(crate) unit_cost_mills: i64,
    /// Formulary tier (1 generic, 2 preferred brand, 3 non-preferred).
    pub(crate) tier: u8,
    /// Taken long term (refilled) rather than a short course.
    pub(crate) chronic: bool,
}

#[allow(clippy::too_many_arguments)]
const fn drug(
    name: &'static str,
    rxnorm: &'static str,
    ndc: &'static str,
    strength: &'static str,
    form: &'static str,
    route: &'static str,
    dose: &'static str,
    frequency: &'static str,
    units_per_fill: u32,
    days_supply: u32,
    unit_cost_mills: i64,
    tier: u8,
    chronic: bool,
) -> Drug {
    Drug {
        name,
        rxnorm,
        ndc,
        strength,
        form,
        route,
        dose,
        frequency,
        units_per_fill,
        days_supply,
        unit_cost_mills,
        tier,
        chronic,
    }
}

/// Drugs, referenced by index from [`CONDITIONS`] and [`ACUTES`].
#[rustfmt::skip]
pub(crate) static DRUGS: &[Drug] = &[
    drug("metformin hydrochloride 500 MG Oral Tablet", "861007", "00093104801", "500 mg", "tablet", "oral", "500 mg", "twice daily", 60, 30, 60, 1, true),
    drug("empagliflozin 10 MG Oral Tablet", "1545658", "00597015230", "10 mg", "tablet", "oral", "10 mg", "once daily", 30, 30, 19_500, 2, true),
    drug("lisinopril 10 MG Oral Tablet", "314076", "68180051301", "10 mg", "tablet", "oral", "10 mg", "once daily", 30, 30, 50, 1, true),
    drug("amlodipine 5 MG Oral Tablet", "197361", "00093717198", "5 mg", "tablet", "oral", "5 mg", "once daily", 30, 30, 50, 1, true),
    drug("losartan potassium 50 MG Oral Tablet", "979485", "00093736598", "50 mg", "tablet", "oral", "50 mg", "once daily", 30, 30, 100, 1, true),
    drug("atorvastatin calcium 20 MG Oral Tablet", "617310", "00378201577", "20 mg", "tablet", "oral", "20 mg", "once daily at bedtime", 30, 30, 80, 1, true),
    drug("albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "745679", "00487980101", "90 mcg/actuation", "inhaler", "inhalation", "2 puffs", "every 4 to 6 hours as needed", 18, 30, 2_200, 1, true),
    drug("tiotropium 0.018 MG Inhalation Capsule", "485032", "00597007541", "18 mcg", "capsule", "inhalation", "18 mcg", "once daily", 30, 30, 14_000, 2, true),
    drug("sertraline 50 MG Oral Tablet", "312940", "16729000110", "50 mg", "tablet", "oral", "50 mg", "once daily", 30, 30, 70, 1, true),
    drug("escitalopram 10 MG Oral Tablet", "349332", "00093585101", "10 mg", "tablet", "oral", "10 mg", "once daily", 30, 30, 80, 1, true),
    drug("furosemide 20 MG Oral Tablet", "310429", "00054429725", "20 mg", "tablet", "oral", "20 mg", "once daily", 30, 30, 40, 1, true),
    drug("carvedilol 6.25 MG Oral Tablet", "200031", "00093729401", "6.25 mg", "tablet", "oral", "6.25 mg", "twice daily", 60, 30, 50, 1, true),
    drug("apixaban 5 MG Oral Tablet", "1364445", "00003089421", "5 mg", "tablet", "oral", "5 mg", "twice daily", 60, 30, 9_300, 2, true),
    drug("levothyroxine sodium 0.05 MG Oral Tablet", "966222", "00378180001", "50 mcg", "tablet", "oral", "50 mcg", "once daily before breakfast", 30, 30, 150, 1, true),
    drug("pantoprazole 40 MG Delayed Release Oral Tablet", "314200", "62175061743", "40 mg", "tablet", "oral", "40 mg", "once daily", 30, 30, 100, 1, true),
    drug("meloxicam 15 MG Oral Tablet", "311486", "29300012501", "15 mg", "tablet", "oral", "15 mg", "once daily", 30, 30, 50, 1, true),
    drug("clopidogrel 75 MG Oral Tablet", "309362", "16729021817", "75 mg", "tablet", "oral", "75 mg", "once daily", 30, 30, 90, 1, true),
    drug("alendronate sodium 70 MG Oral Tablet", "904421", "00093517144", "70 mg", "tablet", "oral", "70 mg", "once weekly", 4, 28, 600, 1, true),
    drug("ergocalciferol 1.25 MG Oral Capsule", "316964", "00378311077", "50,000 units", "capsule", "oral", "50,000 units", "once weekly", 4, 28, 450, 1, true),
    drug("sumatriptan 50 MG Oral Tablet", "313183", "65862014609", "50 mg", "tablet", "oral", "50 mg", "at migraine onset, may repeat once", 9, 30, 500, 1, true),
    drug("ferrous sulfate 325 MG Oral Tablet", "310325", "00904759160", "325 mg", "tablet", "oral", "325 mg", "once daily", 30, 30, 30, 1, true),
    drug("nicotine 0.875 MG/HR 24HR Transdermal System", "198029", "00135019402", "21 mg/24 hr", "patch", "transdermal", "1 patch", "once daily", 28, 28, 1_800, 1, true),
    drug("amoxicillin 500 MG Oral Capsule", "308182", "00093310905", "500 mg", "capsule", "oral", "500 mg", "three times daily for 10 days", 30, 10, 150, 1, false),
    drug("nitrofurantoin 100 MG Oral Capsule (monohydrate/macrocrystals)", "1648755", "00093003901", "100 mg", "capsule", "oral", "100 mg", "twice daily for 5 days", 10, 5, 1_100, 1, false),
    drug("azithromycin 250 MG Oral Tablet", "308460", "00093714719", "250 mg", "tablet", "oral", "500 mg day 1, then 250 mg", "once daily for 5 days", 6, 5, 600, 1, false),
    drug("ibuprofen 600 MG Oral Tablet", "197806", "00904585161", "600 mg", "tablet", "oral", "600 mg", "every 6 hours as needed", 30, 10, 50, 1, false),
    drug("ondansetron 4 MG Disintegrating Oral Tablet", "104894", "00093747356", "4 mg", "tablet", "oral", "4 mg", "every 8 hours as needed", 12, 4, 200, 1, false),
    drug("prednisone 20 MG Oral Tablet", "312617", "00054476025", "20 mg", "tablet", "oral", "40 mg", "once daily for 5 days", 10, 5, 100, 1, false),
    drug("duloxetine 60 MG Delayed Release Oral Capsule", "596934", "00093754356", "60 mg", "capsule", "oral", "60 mg", "once daily", 30, 30, 200, 1, true),
    drug("gabapentin 300 MG Oral Capsule", "310431", "00228263650", "300 mg", "capsule", "oral", "300 mg", "three times daily", 90, 30, 80, 1, true),
];

// ------------------------------------------------------------------ allergies

/// An allergen: name, code (RxNorm ingredient or SNOMED CT substance), category, usual reactions.
pub(crate) struct Allergen {
    pub(crate) name: &'static str,
    pub(crate) code: &'static str,
    pub(crate) category: &'static str,
    pub(crate) reactions: &'static [&'static str],
    pub(crate) weight: u32,
}

/// Number of allergens.
pub(crate) const N_ALLERGENS: usize = 8;

/// Common allergies.
#[rustfmt::skip]
pub(crate) static ALLERGENS: [Allergen; N_ALLERGENS] = [
    Allergen { name: "Penicillin", code: "70618", category: "medication", reactions: &["Hives", "Rash", "Anaphylaxis"], weight: 40 },
    Allergen { name: "Sulfamethoxazole", code: "10180", category: "medication", reactions: &["Rash", "Hives"], weight: 15 },
    Allergen { name: "Codeine", code: "2670", category: "medication", reactions: &["Nausea", "Itching"], weight: 8 },
    Allergen { name: "Aspirin", code: "1191", category: "medication", reactions: &["Wheezing", "Hives"], weight: 5 },
    Allergen { name: "Peanut", code: "256349002", category: "food", reactions: &["Hives", "Swelling of lips", "Anaphylaxis"], weight: 12 },
    Allergen { name: "Shellfish", code: "227037002", category: "food", reactions: &["Hives", "Vomiting"], weight: 10 },
    Allergen { name: "Latex", code: "111088007", category: "environment", reactions: &["Contact dermatitis", "Hives"], weight: 5 },
    Allergen { name: "Bee venom", code: "288328004", category: "environment", reactions: &["Swelling", "Anaphylaxis"], weight: 5 },
];

// ------------------------------------------------------------------ health plans

/// A health plan product with its benefit design (amounts in cents).
pub(crate) struct Plan {
    pub(crate) code: &'static str,
    pub(crate) line_of_business: &'static str,
    pub(crate) plan_type: &'static str,
    pub(crate) deductible: i64,
    pub(crate) oop_max: i64,
    pub(crate) copay_primary: i64,
    pub(crate) copay_specialist: i64,
    pub(crate) copay_er: i64,
    pub(crate) inpatient_copay_per_day: i64,
    pub(crate) coinsurance_pct: i64,
    /// Allowed amount as a share of billed charges, in per mille (low, high).
    pub(crate) allowed_permille: (i64, i64),
    /// Pharmacy copays by formulary tier 1..=3.
    pub(crate) rx_copays: [i64; 3],
    /// PBM routing: BIN, PCN, group.
    pub(crate) bin: &'static str,
    pub(crate) pcn: &'static str,
    pub(crate) rx_group: &'static str,
    /// Percent of members who also have the pharmacy benefit.
    pub(crate) rx_share: u32,
}

/// Commercial plans.
pub(crate) static COMMERCIAL_PLANS: &[(Plan, u32)] = &[
    (
        Plan {
            code: "COM-PPO-GOLD",
            line_of_business: "commercial",
            plan_type: "PPO",
            deductible: 100_000,
            oop_max: 500_000,
            copay_primary: 2_500,
            copay_specialist: 5_000,
            copay_er: 25_000,
            inpatient_copay_per_day: 0,
            coinsurance_pct: 20,
            allowed_permille: (550, 700),
            rx_copays: [1_000, 4_000, 8_000],
            bin: "610014",
            pcn: "CMPPO",
            rx_group: "RXGOLD01",
            rx_share: 92,
        },
        45,
    ),
    (
        Plan {
            code: "COM-HMO-SILVER",
            line_of_business: "commercial",
            plan_type: "HMO",
            deductible: 200_000,
            oop_max: 750_000,
            copay_primary: 3_000,
            copay_specialist: 6_000,
            copay_er: 30_000,
            inpatient_copay_per_day: 0,
            coinsurance_pct: 20,
            allowed_permille: (450, 600),
            rx_copays: [1_500, 4_500, 9_000],
            bin: "004336",
            pcn: "ADV",
            rx_group: "RXSLV02",
            rx_share: 90,
        },
        35,
    ),
    (
        Plan {
            code: "COM-HDHP-BRONZE",
            line_of_business: "commercial",
            plan_type: "HDHP",
            deductible: 320_000,
            oop_max: 700_000,
            copay_primary: 0,
            copay_specialist: 0,
            copay_er: 0,
            inpatient_copay_per_day: 0,
            coinsurance_pct: 20,
            allowed_permille: (450, 650),
            rx_copays: [1_000, 5_000, 10_000],
            bin: "610011",
            pcn: "HDHP",
            rx_group: "RXBRZ03",
            rx_share: 88,
        },
        20,
    ),
];

/// Medicare Advantage plans (with Part D).
pub(crate) static MEDICARE_PLANS: &[(Plan, u32)] = &[
    (
        Plan {
            code: "MCR-MAPD-HMO",
            line_of_business: "medicare",
            plan_type: "MA-HMO",
            deductible: 0,
            oop_max: 500_000,
            copay_primary: 0,
            copay_specialist: 4_000,
            copay_er: 10_000,
            inpatient_copay_per_day: 30_000,
            coinsurance_pct: 0,
            allowed_permille: (300, 400),
            rx_copays: [0, 4_700, 10_000],
            bin: "610014",
            pcn: "MEDDPRIME",
            rx_group: "MAPD01",
            rx_share: 90,
        },
        60,
    ),
    (
        Plan {
            code: "MCR-MAPD-PPO",
            line_of_business: "medicare",
            plan_type: "MA-PPO",
            deductible: 25_700,
            oop_max: 670_000,
            copay_primary: 1_000,
            copay_specialist: 4_500,
            copay_er: 12_000,
            inpatient_copay_per_day: 35_000,
            coinsurance_pct: 20,
            allowed_permille: (300, 420),
            rx_copays: [500, 4_700, 10_000],
            bin: "004336",
            pcn: "MEDDADV",
            rx_group: "MAPD02",
            rx_share: 85,
        },
        40,
    ),
];

/// Medicaid managed care.
pub(crate) static MEDICAID_PLAN: Plan = Plan {
    code: "MCD-MMC-STD",
    line_of_business: "medicaid",
    plan_type: "MMC",
    deductible: 0,
    oop_max: 0,
    copay_primary: 0,
    copay_specialist: 0,
    copay_er: 0,
    inpatient_copay_per_day: 0,
    coinsurance_pct: 0,
    allowed_permille: (220, 320),
    rx_copays: [100, 400, 400],
    bin: "610494",
    pcn: "MCAIDRX",
    rx_group: "MCD001",
    rx_share: 100,
};

// ------------------------------------------------------------------ trial

/// The study every MultiProduct scenario contains.
pub(crate) struct StudyInfo {
    pub(crate) protocol: &'static str,
    pub(crate) title: &'static str,
    pub(crate) phase: &'static str,
    pub(crate) therapeutic_area: &'static str,
    pub(crate) indication: &'static str,
    pub(crate) sponsor: &'static str,
}

/// The phase 3 type 2 diabetes study.
pub(crate) static STUDY: StudyInfo = StudyInfo {
    protocol: "HSX-2701-301",
    title: "A Phase 3, Randomized, Double-Blind, Placebo-Controlled Study of HSX-2701 Added to Metformin in Adults with Type 2 Diabetes Mellitus",
    phase: "Phase 3",
    therapeutic_area: "Endocrinology",
    indication: "Type 2 diabetes mellitus",
    sponsor: "HealthSim Therapeutics",
};

/// Treatment arms: code, name, type, description. The first two always exist.
#[rustfmt::skip]
pub(crate) static ARMS: &[(&str, &str, &str, &str)] = &[
    ("PBO", "Placebo", "PLACEBO_COMPARATOR", "Placebo tablet once daily added to metformin for 52 weeks"),
    ("HSX10", "HSX-2701 10 mg", "EXPERIMENTAL", "HSX-2701 10 mg tablet once daily added to metformin for 52 weeks"),
    ("HSX20", "HSX-2701 20 mg", "EXPERIMENTAL", "HSX-2701 20 mg tablet once daily added to metformin for 52 weeks"),
];

/// Number of adverse event terms.
pub(crate) const N_ADVERSE_EVENTS: usize = 13;

/// An adverse event term: verbatim term, MedDRA preferred term, system organ class, weight in the
/// experimental arms and in the placebo arm.
#[rustfmt::skip]
pub(crate) static ADVERSE_EVENTS: [(&str, &str, &str, u32, u32); N_ADVERSE_EVENTS] = [
    ("nausea", "Nausea", "Gastrointestinal disorders", 160, 60),
    ("headache", "Headache", "Nervous system disorders", 90, 80),
    ("loose stools", "Diarrhoea", "Gastrointestinal disorders", 110, 50),
    ("low blood sugar", "Hypoglycaemia", "Metabolism and nutrition disorders", 70, 20),
    ("feeling tired", "Fatigue", "General disorders and administration site conditions", 60, 50),
    ("cold symptoms", "Nasopharyngitis", "Infections and infestations", 70, 75),
    ("dizzy", "Dizziness", "Nervous system disorders", 45, 35),
    ("vomiting", "Vomiting", "Gastrointestinal disorders", 50, 20),
    ("burning on urination", "Urinary tract infection", "Infections and infestations", 40, 30),
    ("back pain", "Back pain", "Musculoskeletal and connective tissue disorders", 35, 35),
    ("joint pain", "Arthralgia", "Musculoskeletal and connective tissue disorders", 30, 30),
    ("constipation", "Constipation", "Gastrointestinal disorders", 40, 25),
    ("decreased appetite", "Decreased appetite", "Metabolism and nutrition disorders", 35, 10),
];
