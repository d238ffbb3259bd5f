//! The care network: provider specialties (NUCC taxonomy) with their role in care delivery, and
//! the kinds and name patterns of facilities.
//!
//! The `*_CYCLE` orders hand out specialties and facility kinds round-robin per metro, so every
//! metro gets a complete network (primary care, ED, hospitalist, each specialist; a hospital, a
//! clinic, urgent care) before any metro gets a second of anything.

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
