//! ResearchStudy → studies + treatment_arms; ResearchSubject → subjects.

use super::super::values::{
    concept_at, date_at, first_at, first_concept_at, objects_at, reference_at, str_at, within, R,
};
use super::{required, Outcome, Row, Source};

/// The arm id shared by a study's arms and its subjects' assignedArm: arm names are unique
/// within a study only, and arm ids must be unique in a scenario.
fn arm_id(study_id: &str, arm_name: &str) -> String {
    format!("{study_id}-{arm_name}")
}

pub(crate) fn study(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("studies", "study_id", src.id);
    if let Some(identifier) = first_at(v, &["identifier"])? {
        row.set(
            "protocol_number",
            str_at(identifier, &["value"]).map_err(within("identifier"))?,
        );
    }
    row.set("title", str_at(v, &["title"])?);
    if let Some(phase) = concept_at(v, &["phase"])? {
        row.code("phase", phase.preferred(&[]));
    }
    if let Some(area) = first_concept_at(v, &["category"])? {
        row.set("therapeutic_area", area.label());
    }
    if let Some(condition) = first_concept_at(v, &["condition"])? {
        row.set("indication", condition.label());
    }
    row.set("sponsor", str_at(v, &["sponsor", "display"])?);
    row.set("status", str_at(v, &["status"])?);
    row.set("start_date", date_at(v, &["period", "start"])?);
    row.set("end_date", date_at(v, &["period", "end"])?);
    let mut rows = vec![row];
    for arm in objects_at(v, &["arm"])? {
        let in_arm = within("arm");
        let name = str_at(arm, &["name"])
            .map_err(&in_arm)?
            .ok_or("arm.name is required")?;
        let mut row = Row::derived("treatment_arms", "arm_id", &arm_id(src.id, name));
        row.set("study_id", Some(src.id));
        row.set("name", Some(name));
        if let Some(kind) = concept_at(arm, &["type"]).map_err(&in_arm)? {
            row.code("arm_type", kind.preferred(&[]));
        }
        row.set(
            "description",
            str_at(arm, &["description"]).map_err(&in_arm)?,
        );
        rows.push(row);
    }
    Ok(Outcome::Rows(rows))
}

pub(crate) fn subject(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("subjects", "subject_id", src.id);
    let study = required(
        reference_at(v, &["study"], &["ResearchStudy"])?,
        "study",
        "a ResearchStudy",
    )?;
    row.set("study_id", Some(study));
    let individual = reference_at(v, &["individual"], &["Patient"])?;
    row.set("patient_id", individual);
    row.set("person_id", individual);
    if let Some(identifier) = first_at(v, &["identifier"])? {
        row.set(
            "usubjid",
            str_at(identifier, &["value"]).map_err(within("identifier"))?,
        );
    }
    if let Some(arm) = str_at(v, &["assignedArm"])? {
        row.set("arm_id", Some(arm_id(study, arm)));
    }
    row.set("enrollment_date", date_at(v, &["period", "start"])?);
    row.set("status", str_at(v, &["status"])?);
    Ok(Outcome::Rows(vec![row]))
}
