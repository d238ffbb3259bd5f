"""Drives `healthsim mcp` through the official Python MCP client (the `mcp` package), in one
session, and checks what a standard JSON Schema validator says about it:

- every tool's inputSchema and outputSchema is a valid Draft 2020-12 schema, and uses only
  formats the validator knows (an unknown format is an error here, not ignored);
- every structuredContent validates against the tool's outputSchema, with format checking on;
- each tool's worst case runs (largest counts, longest values, many scenarios and tags).

It prints one JSON document: the tools (name, description) and every result (tool, whether it
is an error, its text). `tests/conformance.rs` runs it and measures the texts with the real
tokenizer against each tool's stated bound; this script only collects and validates.

Usage: client.py HEALTHSIM_BINARY DATABASE FHIR_DATA_DIR EXPORT_DIR
"""

import asyncio
import json
import sys
from pathlib import Path

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

FORMATS = FormatChecker()
failures = []
results = []


def long_text(n, seed):
    piece = f"ß{seed}~Zq|7 lorem-ipsum {seed * 7919}; "
    return (piece * (n // len(piece) + 1))[:n]


def formats_in(schema):
    """Every "format" keyword value in a schema (property names called "format" are skipped)."""
    found = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "format" and isinstance(value, str):
                found.append(value)
            elif key == "properties" and isinstance(value, dict):
                for prop in value.values():
                    found.extend(formats_in(prop))
            else:
                found.extend(formats_in(value))
    elif isinstance(schema, list):
        for item in schema:
            found.extend(formats_in(item))
    return found


def check_schema(tool, kind, schema):
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        failures.append(f"{tool}: {kind} is not a valid Draft 2020-12 schema: {e.message}")
    for fmt in formats_in(schema):
        if fmt not in FORMATS.checkers:
            failures.append(f"{tool}: {kind} uses the unknown format '{fmt}'")


async def call(session, tools, name, arguments):
    result = await session.call_tool(name, arguments)
    data = result.model_dump(by_alias=True, exclude_none=True)
    text = "".join(c.get("text", "") for c in data.get("content", []))
    is_error = bool(data.get("isError"))
    results.append({"tool": name, "is_error": is_error, "text": text})
    structured = data.get("structuredContent")
    if not is_error:
        schema = tools[name].get("outputSchema")
        if structured is None or schema is None:
            failures.append(f"{name}: no structuredContent or no outputSchema")
        else:
            validator = Draft202012Validator(schema, format_checker=FORMATS)
            for error in validator.iter_errors(structured):
                failures.append(f"{name}: structuredContent does not match outputSchema at "
                                f"{list(error.absolute_path)}: {error.message[:300]}")
    return is_error, structured, text


async def main():
    binary, database, fhir, exports = sys.argv[1:5]
    params = StdioServerParameters(command=binary, args=["--db", database, "mcp"])
    async with stdio_client(params) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            listed = await session.list_tools()
            tools = {}
            for tool in listed.tools:
                data = tool.model_dump(by_alias=True, exclude_none=True)
                tools[data["name"]] = data
                check_schema(data["name"], "inputSchema", data["inputSchema"])
                check_schema(data["name"], "outputSchema", data.get("outputSchema", {}))
            await worst_cases(session, tools, fhir, exports)
    print(json.dumps({
        "tools": [{"name": n, "description": t.get("description", "")} for n, t in sorted(tools.items())],
        "results": results,
        "failures": failures,
    }))


async def worst_cases(session, tools, fhir, exports):
    ok = lambda r, what: r[0] and failures.append(f"{what} failed: {r[2][:300]}")
    # Scenarios with long descriptions and many long tags; wide patients; every product's types.
    for s in range(40):
        tags = [f"t{s}-{t}-{long_text(50, s + t)}".strip().lower() for t in range(30)]
        ok(await call(session, tools, "persist_entities", {
            "entity_type": "persons", "entities": [{"person_id": "p1"}],
            "scenario_name": f"scenario {s}x {long_text(300, s)}",
            "description": long_text(3000, s), "tags": tags}), "persist")
    wide = []
    for i in range(25):
        p = {"patient_id": f"wide-{i}-{long_text(200, i)}", "given_name": long_text(5000, i),
             "gender": "female", "birth_date": "1950-01-01"}
        for f in range(300):
            p[f"extra_field_{f:03}_{long_text(40, f)}"] = long_text(200, f)
        wide.append(p)
    ok(await call(session, tools, "persist_entities", {
        "entity_type": "patients", "entities": wide, "scenario_name": "wide"}), "persist wide")
    bundle = str(Path(fhir) / "transaction-bundle.json")
    ok(await call(session, tools, "import_fhir", {
        "paths": [str(Path(fhir) / "malformed" / "bad.ndjson"), bundle],
        "skip_invalid": True, "scenario_name": "fhir"}), "import_fhir")
    # Python HealthSim JSON files: more scenarios than a report lists, long names, many
    # types without a table, entities that fail validation, many fields kept in extra.
    legacy = Path(exports) / "python-healthsim"
    legacy.mkdir(parents=True, exist_ok=True)
    for s in range(60):
        entities = {f"unknown_type_{t}_{long_text(40, t)}": [{"id": f"x{t}"}] for t in range(15)}
        entities["patients"] = [
            {"id": f"p{p}-{long_text(200, p)}",
             "birth_date": "not a date" if p % 2 == 0 else "1950-01-01",
             **{f"field_{f}_{long_text(30, f)}": f for f in range(20)}}
            for p in range(20)]
        (legacy / f"s{s:02}.json").write_text(json.dumps({
            "name": f"{long_text(300, s)} {s}", "description": long_text(3000, s),
            "tags": [long_text(60, t) for t in range(30)], "entities": entities}))
    widest = "claims,pharmacy_claims,subjects,claim_lines,members,rx_members,prescriptions,vitals,patients,medications"
    calls = [
        ("list_scenarios", {"limit": 50}),
        ("list_scenarios", {"limit": "50", "offset": "10", "sort_by": "name"}),
        ("list_tags", {}),
        ("list_tags", {"scenario_id": "scenario-1x"}),
        ("get_entity_samples", {"scenario_id": "wide", "entity_type": "patients", "count": 20}),
        ("get_scenario_summary", {"scenario_id": "wide", "samples_per_type": 10}),
        ("get_scenario_summary", {"scenario_id": "fhir", "samples_per_type": "10", "include_samples": "true"}),
        ("query_scenario", {"scenario_id": "wide", "query": "SELECT * FROM patients", "limit": 100}),
        ("describe_schema", {}),
        ("describe_schema", {"entity_type": widest}),
        ("add_tag", {"scenario_id": "scenario-2x", "tag": "x" + long_text(60, 9)}),
        ("remove_tag", {"scenario_id": "scenario-3x", "tag": "nothing"}),
        ("rename_scenario", {"scenario_id": "scenario-4x", "new_name": long_text(500, 3)}),
        ("clone_scenario", {"scenario_id": "fhir", "new_name": long_text(500, 4), "tags": "a,b,c"}),
        ("merge_scenarios", {"scenario_ids": [f"scenario-{s}x" for s in range(5, 25)], "on_conflict": "rename"}),
        ("export_scenario", {"scenario_id": "fhir", "format": "csv", "output_path": str(Path(exports) / "csv")}),
        # The path is the folder the export above wrote (its result's "path").
        ("import_scenario", {"path": "<exported>", "name": long_text(500, 6)}),
        ("import_legacy", {"path": str(legacy), "on_name_conflict": "rename", "dry_run": "false"}),
        ("report_scenario", {"scenario_id": "fhir", "output_path": str(Path(exports) / "r.html")}),
        ("delete_scenario", {"scenario_id": "wide", "confirm": "true"}),
    ]
    exported = None
    for name, arguments in calls:
        if arguments.get("path") == "<exported>":
            arguments = {**arguments, "path": exported}
        outcome = await call(session, tools, name, arguments)
        ok(outcome, f"{name}({json.dumps(arguments)[:80]})")
        if name == "export_scenario" and outcome[1]:
            exported = outcome[1].get("path")
    # Refusals come back as tool errors, in JSON terms.
    for name, arguments in [
        ("get_entity_samples", {"scenario_id": "fhir", "entity_type": "patients", "count": 21}),
        ("query_scenario", {"scenario_id": "fhir", "query": "SELECT 1", "limit": 101}),
        ("list_scenarios", {"limit": "many"}),
    ]:
        is_error, _, _ = await call(session, tools, name, arguments)
        if not is_error:
            failures.append(f"{name}({arguments}) was not refused")


if __name__ == "__main__":
    asyncio.run(main())
