//! The clinical trial every multi-product scenario contains: the study, its treatment arms and the
//! adverse event terms (MedDRA) with their frequency in each kind of arm.

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
