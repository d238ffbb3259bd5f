//! Picking the few words of a request that say what a scenario is about.

use crate::sanitize::clean;

/// Words that say what a healthcare scenario is about. They are ranked before
/// all other words. `rx` is the one entry shorter than three letters; being
/// listed here is what keeps it.
#[rustfmt::skip] // grouped, several words a line
const HEALTHCARE_TERMS: &[&str] = &[
    // Conditions.
    "diabetes", "diabetic", "prediabetes", "hypertension", "hypertensive", "cardiac", "heart",
    "cardiovascular", "chf", "cad", "afib", "copd", "asthma", "oncology", "cancer", "renal",
    "kidney", "ckd", "esrd", "dialysis", "stroke", "dementia", "alzheimers", "parkinsons",
    "depression", "anxiety", "behavioral", "obesity", "sepsis", "pneumonia", "influenza",
    "covid", "hiv", "hepatitis", "opioid", "arthritis", "chronic", "transplant",
    // Populations.
    "medicare", "medicaid", "commercial", "pediatric", "geriatric", "elderly", "maternal",
    "pregnancy", "pregnant", "prenatal", "neonatal", "newborn", "veteran", "veterans", "senior",
    "seniors", "uninsured",
    // Care settings.
    "emergency", "inpatient", "outpatient", "icu", "surgical", "ambulatory", "telehealth",
    "readmission", "readmissions", "hospital", "hospice",
    // Entity words.
    "patient", "patients", "member", "members", "claim", "claims", "encounter", "encounters",
    "prescription", "prescriptions", "subject", "subjects", "trial", "trials", "cohort",
    "pharmacy", "rx", "lab", "labs", "provider", "providers", "facility", "facilities",
    "network",
];

/// Words that never make a keyword. Words shorter than three letters (`a`,
/// `of`, `is`) are dropped anyway, so they are not listed.
#[rustfmt::skip] // grouped, several words a line
const STOP_WORDS: &[&str] = &[
    // Articles and pronouns.
    "the", "this", "that", "these", "those", "you", "your", "our", "ours", "him", "his", "her",
    "hers", "its", "they", "them", "their", "theirs", "who", "whom", "whose", "which", "what",
    // Prepositions.
    "for", "from", "with", "without", "within", "into", "onto", "over", "under", "above",
    "below", "between", "among", "about", "across", "after", "before", "during", "through",
    "per", "via", "than", "around", "near", "like", "out",
    // Conjunctions.
    "and", "but", "nor", "yet", "then", "also", "both", "either", "neither", "whether", "while",
    "where", "when",
    // Auxiliaries.
    "are", "was", "were", "been", "being", "does", "did", "have", "has", "had", "having",
    "will", "would", "shall", "should", "can", "could", "may", "might", "must",
    // Quantities and ages.
    "some", "all", "each", "every", "any", "many", "much", "more", "most", "few", "several",
    "least", "less", "other", "another", "such", "only", "just", "very", "total", "number",
    "approximately", "roughly", "age", "aged", "ages", "year", "years", "old", "older",
    "younger", "month", "months", "day", "days", "one", "two", "three", "four", "five", "six",
    "seven", "eight", "nine", "ten", "twenty", "fifty", "hundred", "thousand", "dozen",
    // Request verbs.
    "generate", "generating", "generated", "create", "creating", "created", "make", "making",
    "build", "building", "add", "new", "please", "want", "need", "show", "give", "get",
    "produce", "simulate", "simulated", "let", "run", "using", "use", "include", "including",
    "set",
    // Synthetic and sample words.
    "synthetic", "data", "dataset", "sample", "samples", "random", "test", "testing", "fake",
    "mock", "dummy", "realistic", "scenario", "scenarios",
];

/// Plurals the suffix rules get wrong. A value is also recognised as already
/// plural.
const IRREGULAR_PLURALS: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("criterion", "criteria"),
    ("staff", "staff"),
    ("rx", "rx"),
];

/// Extracts up to `max` keywords from `context`, adding the plural of
/// `entity_type`.
///
/// The rules, in order:
///
/// 1. The context is transliterated to ASCII, lowercased and split on every
///    character that is not a letter or digit.
/// 2. A word is dropped when it is a stop word (articles, pronouns,
///    prepositions, conjunctions, auxiliaries, quantity words like `over`,
///    `years`, `old`, request verbs like `generate`, `please`, and words like
///    `synthetic`, `sample`, `test`), when at least half of it is digits
///    (`50`, `65yo`), when it has fewer than three characters — except `rx`,
///    which is a healthcare term — or when it repeats an earlier word.
/// 3. Healthcare terms (conditions, populations, care settings, entity words)
///    come first, then the other words; each group keeps its original order.
/// 4. With an entity type, its plural (`patient` → `patients`, `pharmacy` →
///    `pharmacies`, `diagnosis` → `diagnoses`, `rx_member` → `rx-members`)
///    replaces the context words that spell it (`patient`, `patients`, `rx`,
///    `members`) at the position of the first of them, or is appended.
/// 5. The first `max` keywords are kept; if the entity plural is not among
///    them, it takes the last place. So the entity plural is always present
///    when `max >= 1`.
///
/// An entity type ending in `s` (but not `ss`) is taken as already plural.
///
/// ```
/// use healthsim_naming::extract_keywords;
/// let context = "Build a cohort of elderly patients with CHF";
/// let words = extract_keywords(context, Some("patient"), 3);
/// assert_eq!(words, ["cohort", "elderly", "patients"]);
/// let words = extract_keywords("Create Medicare claims", Some("claim"), 3);
/// assert_eq!(words, ["medicare", "claims"]);
/// ```
pub fn extract_keywords(context: &str, entity_type: Option<&str>, max: usize) -> Vec<String> {
    let words = context_words(context);
    let (mut keywords, others): (Vec<String>, Vec<String>) =
        words.into_iter().partition(|w| is_healthcare_term(w));
    keywords.extend(others);

    let Some(entity) = entity_type.and_then(EntityWords::new) else {
        keywords.truncate(max);
        return keywords;
    };
    let first_spelled = keywords.iter().position(|w| entity.spells(w));
    keywords.retain(|w| !entity.spells(w));
    let at = first_spelled.unwrap_or(keywords.len()).min(keywords.len());
    keywords.insert(at, entity.plural.clone());

    if max == 0 {
        return Vec::new();
    }
    if at >= max {
        keywords.truncate(max - 1);
        keywords.push(entity.plural);
    } else {
        keywords.truncate(max);
    }
    keywords
}

/// The candidate words of `context` in order, before ranking.
fn context_words(context: &str) -> Vec<String> {
    let cleaned = clean(context);
    let mut words: Vec<String> = Vec::new();
    for word in cleaned.split('-') {
        if is_keyword(word) && !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    words
}

fn is_keyword(word: &str) -> bool {
    if STOP_WORDS.contains(&word) {
        return false;
    }
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    if digits * 2 >= word.len() {
        return false;
    }
    word.len() >= 3 || is_healthcare_term(word)
}

fn is_healthcare_term(word: &str) -> bool {
    HEALTHCARE_TERMS.contains(&word)
}

/// An entity type as a keyword, and the context words that spell it.
struct EntityWords {
    /// `patients`, `rx-members`.
    plural: String,
    /// Every part of the type, with the last part as written, pluralized and
    /// singularized: `rx`, `member`, `members`.
    parts: Vec<String>,
}

impl EntityWords {
    fn new(entity_type: &str) -> Option<Self> {
        let cleaned = clean(entity_type);
        let (head, last) = match cleaned.rsplit_once('-') {
            Some((head, last)) => (Some(head), last),
            None if cleaned.is_empty() => return None,
            None => (None, cleaned.as_str()),
        };
        let last_plural = pluralize(last);
        let plural = match head {
            Some(head) => format!("{head}-{last_plural}"),
            None => last_plural.clone(),
        };
        let mut parts: Vec<String> = head
            .into_iter()
            .flat_map(|h| h.split('-'))
            .map(str::to_owned)
            .collect();
        parts.push(last.to_owned());
        parts.push(singularize(&last_plural));
        parts.push(last_plural);
        Some(Self { plural, parts })
    }

    fn spells(&self, word: &str) -> bool {
        self.parts.iter().any(|p| p == word)
    }
}

/// The plural of one lowercase word; a word that already looks plural is
/// returned as it is.
fn pluralize(word: &str) -> String {
    if let Some((_, plural)) = IRREGULAR_PLURALS.iter().find(|(s, _)| *s == word) {
        return (*plural).to_owned();
    }
    if IRREGULAR_PLURALS.iter().any(|(_, p)| *p == word) {
        return word.to_owned();
    }
    if !word.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("is").filter(|s| !s.is_empty()) {
        return format!("{stem}es");
    }
    if word.ends_with('s') && !word.ends_with("ss") {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix('y') {
        if stem.ends_with(|c: char| !"aeiou".contains(c)) {
            return format!("{stem}ies");
        }
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| word.ends_with(e))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// A rough singular, only used to recognise a context word as the entity.
fn singularize(plural: &str) -> String {
    if let Some((singular, _)) = IRREGULAR_PLURALS.iter().find(|(_, p)| *p == plural) {
        return (*singular).to_owned();
    }
    if let Some(stem) = plural.strip_suffix("ies") {
        return format!("{stem}y");
    }
    match plural.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem.to_owned(),
        _ => plural.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(context: &str, entity_type: Option<&str>, max: usize, expected: &[&str]) {
        assert_eq!(
            extract_keywords(context, entity_type, max),
            expected,
            "context: {context:?}, entity: {entity_type:?}, max: {max}"
        );
    }

    #[test]
    fn extract_keywords_table() {
        let p = Some("patient");
        check(
            "Generate 50 diabetic patients over 65",
            p,
            3,
            &["diabetic", "patients"],
        );
        check(
            "Create Medicare claims",
            Some("claim"),
            3,
            &["medicare", "claims"],
        );
        check("", None, 3, &[]);
        check("", p, 3, &["patients"]);
        check("   ", Some("  "), 3, &[]);
        check("please generate some synthetic test data", None, 3, &[]);
        // Healthcare terms first, each group in order of appearance.
        check(
            "Maricopa County CHF patients",
            None,
            3,
            &["chf", "patients", "maricopa"],
        );
        check(
            "Build a cohort of elderly patients in Maricopa County with CHF",
            p,
            3,
            &["cohort", "elderly", "patients"],
        );
        check(
            "Build a cohort of elderly patients in Maricopa County with CHF",
            None,
            10,
            &["cohort", "elderly", "patients", "chf", "maricopa", "county"],
        );
        // The entity plural takes the last place when it would fall off.
        check(
            "asthma copd icu sepsis patients",
            p,
            3,
            &["asthma", "copd", "patients"],
        );
        check("asthma copd icu", p, 1, &["patients"]);
        check("asthma copd icu", p, 0, &[]);
        check("asthma copd icu", None, 2, &["asthma", "copd"]);
        // A singular in the context becomes the entity plural in place.
        check(
            "elderly patient in the ICU",
            p,
            3,
            &["elderly", "patients", "icu"],
        );
        check("patients and more patients", p, 3, &["patients"]);
        check("Patients, PATIENTS, patients!", None, 3, &["patients"]);
        // Numbers and mostly-digit words are dropped, letters+digits kept.
        check("50 65yo 2024 covid19", None, 3, &["covid19"]);
        check("h1n1 b12", None, 3, &[]);
        // Short words go, except rx.
        check("rx ed er or ok", None, 3, &["rx"]);
        check("Rx refills", Some("rx_claim"), 3, &["rx-claims", "refills"]);
        // Transliteration.
        check("Patienten in München", None, 3, &["patienten", "munchen"]);
        check("Diabète sévère", None, 3, &["diabete", "severe"]);
        // Multi-part entity types are not repeated.
        check(
            "Generate pharmacy claims",
            Some("pharmacy_claim"),
            3,
            &["pharmacy-claims"],
        );
        check(
            "lab results for patients",
            Some("lab_result"),
            3,
            &["lab-results", "patients"],
        );
    }

    #[track_caller]
    fn check_plural(entity_type: &str, expected: &str) {
        let got = EntityWords::new(entity_type).map(|e| e.plural);
        assert_eq!(
            got.as_deref(),
            Some(expected),
            "entity type: {entity_type:?}"
        );
    }

    #[test]
    fn entity_plural_table() {
        check_plural("patient", "patients");
        check_plural("patients", "patients");
        check_plural("Patient", "patients");
        check_plural("claim", "claims");
        check_plural("pharmacy", "pharmacies");
        check_plural("day", "days");
        check_plural("diagnosis", "diagnoses");
        check_plural("diagnoses", "diagnoses");
        check_plural("class", "classes");
        check_plural("box", "boxes");
        check_plural("batch", "batches");
        check_plural("rx_member", "rx-members");
        check_plural("claim_line", "claim-lines");
        check_plural("person", "people");
        check_plural("people", "people");
        check_plural("child", "children");
        check_plural("rx", "rx");
        check_plural("facility", "facilities");
        check_plural("type2", "type2");
        check_plural("Médecin", "medecins");
    }

    #[test]
    fn term_lists_are_clean() {
        for list in [HEALTHCARE_TERMS, STOP_WORDS] {
            for (i, word) in list.iter().enumerate() {
                assert!(
                    !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()),
                    "{word:?}"
                );
                assert!(!list[..i].contains(word), "duplicate {word:?}");
            }
        }
        for word in HEALTHCARE_TERMS {
            assert!(!STOP_WORDS.contains(word), "{word:?} is in both lists");
            assert!(word.len() >= 3 || *word == "rx", "{word:?} is too short");
        }
    }
}
