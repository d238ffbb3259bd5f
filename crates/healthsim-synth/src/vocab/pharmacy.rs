//! Pharmacy vocabularies: drugs (RxNorm clinical drugs with NDCs) with how they are dispensed and
//! priced, and the retail pharmacy chains.

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

/// Drugs, referenced by index from [`CONDITIONS`](super::clinical::CONDITIONS) and
/// [`ACUTES`](super::clinical::ACUTES).
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
