//! Billing vocabularies: procedures (CPT / HCPCS with UB-04 revenue codes and list charges) and
//! health plans with their benefit designs (deductibles, copays, coinsurance, out-of-pocket
//! maximums, pharmacy copays and routing).
//!
//! Amounts are integer cents, so adjudication is exact.

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
