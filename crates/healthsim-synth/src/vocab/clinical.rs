//! Clinical vocabularies: chronic conditions with their prevalence by age band, acute reasons for
//! visits and preventive visits (ICD-10-CM), laboratory tests (LOINC) and allergens.
//!
//! Conditions and acute reasons name the specialists, drugs and procedures that go with them, so
//! the planners of claims and prescriptions follow from the clinical picture.

use super::claims::{
    Proc, CPT_12002, CPT_44970, CPT_71046, CPT_73610, CPT_74177, CPT_81003, CPT_87880, CPT_93000,
    CPT_94640,
};
use super::providers::{CARDIOLOGY, ENDOCRINOLOGY, NEPHROLOGY, PSYCHIATRY, PULMONOLOGY};

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
