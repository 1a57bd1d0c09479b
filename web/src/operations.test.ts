import { describe, expect, it } from "vitest";
import {
  paramsComplete,
  OFFERED_TYPES,
  OPERATION_FIELDS,
  PER_LINE_MAX,
  ended,
  initialValues,
  itemsComplete,
  operationRequest,
  parseLabels,
  selectable,
  typesFor,
} from "./operations";

describe("the operation request built from a choice of lines", () => {
  it("names chosen lines by number, with the type's parameters", () => {
    const body = operationRequest(
      "block",
      { block_type: "lost_or_stolen" },
      { kind: "lines", msisdns: ["+79991000001", "+79991000002"] },
    );
    expect(body).toEqual({
      type: "block",
      params: { block_type: "lost_or_stolen" },
      lines: ["+79991000001", "+79991000002"],
    });
  });

  it("sends a filter as a selection, without the fields it leaves empty, and a schedule in UTC", () => {
    const body = operationRequest(
      "set_services",
      { connect: ["roaming"], disconnect: [], notify_subscribers: true },
      { kind: "filter", nodeId: "n1", states: ["active", "blocked"], tariff: undefined },
      new Date(Date.UTC(2026, 11, 24, 9, 30)),
    );
    expect(body).toEqual({
      type: "set_services",
      params: { connect: ["roaming"], notify_subscribers: true },
      selection: { node_id: "n1", state: ["active", "blocked"] },
      scheduled_at: "2026-12-24T09:30:00.000Z",
    });
  });

  it("leaves out optional parameters left empty and false flags, and trims text", () => {
    const values = { ...initialValues("add_apn"), apn: "  corp.internet " };
    expect(values).toEqual({ apn: "  corp.internet ", pdp_type: "", static_ip: "" });
    expect(operationRequest("add_apn", values, { kind: "lines", msisdns: ["+79991000001"] }).params).toEqual({
      apn: "corp.internet",
    });
    expect(operationRequest("change_tariff", { tariff_code: "BIZ-L", notify_subscribers: false }, {
      kind: "lines",
      msisdns: ["+79991000001"],
    }).params).toEqual({ tariff_code: "BIZ-L" });
  });

  it("sends labels typed in one field as a list, each trimmed and once, and a group (by its id) by a filter of labels", () => {
    expect(parseLabels(" drivers, north ,,drivers, Север ")).toEqual(["drivers", "north", "Север"]);
    expect(parseLabels(" , ")).toEqual([]);
    const labelled = operationRequest("add_labels", { labels: "vip, night shift" }, { kind: "lines", msisdns: ["+79991000001"] });
    expect(labelled.params).toEqual({ labels: ["vip", "night shift"] });
    expect(operationRequest("remove_labels", { labels: " , " }, { kind: "lines", msisdns: ["+79991000001"] }).params).toEqual({});
    expect(
      operationRequest(
        "set_group",
        { group_id: "01JA5F6G7H8J9K0M1N2P3Q4R5S" },
        { kind: "filter", label: "drivers", group: undefined },
      ),
    ).toEqual({ type: "set_group", params: { group_id: "01JA5F6G7H8J9K0M1N2P3Q4R5S" }, selection: { label: "drivers" } });
    expect(initialValues("set_group")).toEqual({ group_id: "" });
    expect(initialValues("add_labels")).toEqual({ labels: "" });
    expect(initialValues("clear_group")).toEqual({});
  });

  it("starts each required choice at its first value", () => {
    expect(initialValues("block")).toEqual({ block_type: "voluntary" });
    expect(initialValues("activate")).toEqual({});
    for (const type of OFFERED_TYPES) expect(OPERATION_FIELDS[type]).toBeDefined();
  });

  it("needs lines, or a filter the API can resolve (not a number search alone)", () => {
    expect(selectable({ kind: "lines", msisdns: [] })).toBe(false);
    expect(selectable({ kind: "lines", msisdns: ["+79991000001"] })).toBe(true);
    expect(selectable({ kind: "filter" })).toBe(false);
    expect(selectable({ kind: "filter", tariff: "BIZ-S" })).toBe(true);
    expect(selectable({ kind: "filter", states: [] })).toBe(false);
    expect(selectable({ kind: "filter", states: ["ready"] })).toBe(true);
  });

  it("gives each line its own new SIM or number as items, without params", () => {
    const lines = { kind: "lines", msisdns: ["+79991000001", "+79991000002"] } as const;
    expect(
      operationRequest("replace_sim", {}, lines, null, {
        "+79991000001": "89701010000000000011",
        "+79991000002": " 89701010000000000029 ",
        "+79991000003": "89701010000000000037",
      }),
    ).toEqual({
      type: "replace_sim",
      items: [
        { msisdn: "+79991000001", params: { iccid: "89701010000000000011" } },
        { msisdn: "+79991000002", params: { iccid: "89701010000000000029" } },
      ],
    });
    // A line without a number chosen is sent bare: the pool picks its new number.
    expect(operationRequest("change_number", {}, lines, null, { "+79991000001": "+79992000005" })).toEqual({
      type: "change_number",
      items: [{ msisdn: "+79991000001", params: { msisdn: "+79992000005" } }, { msisdn: "+79991000002" }],
    });
  });

  it("needs a SIM for every line, and no value given twice", () => {
    const lines = ["+79991000001", "+79991000002"];
    expect(itemsComplete("replace_sim", { "+79991000001": "8970101" }, lines)).toBe(false);
    expect(itemsComplete("replace_sim", { "+79991000001": "8970101", "+79991000002": "8970102" }, lines)).toBe(true);
    expect(itemsComplete("replace_sim", { "+79991000001": "8970101", "+79991000002": "8970101" }, lines)).toBe(false);
    expect(itemsComplete("change_number", {}, lines)).toBe(true);
    expect(itemsComplete("change_number", { "+79991000001": "+7999", "+79991000002": "+7999" }, lines)).toBe(false);
    expect(itemsComplete("block", {}, lines)).toBe(true);
  });

  it("offers the per-line types only on a few lines chosen by number, and a line's likeliest first", () => {
    const few = { kind: "lines", msisdns: ["+79991000001"] } as const;
    expect(typesFor(few)).toEqual([...OFFERED_TYPES, "replace_sim", "change_number"]);
    expect(typesFor(few, "unblock")[0]).toBe("unblock");
    expect(typesFor(few, "unblock")).toHaveLength(OFFERED_TYPES.length + 2);
    const many = { kind: "lines", msisdns: Array.from({ length: PER_LINE_MAX + 1 }, (_, i) => `+7999100${i}`) } as const;
    expect(typesFor(many)).toEqual(OFFERED_TYPES);
    expect(typesFor({ kind: "filter", states: ["active"] })).toEqual(OFFERED_TYPES);
  });

  it("moves lines to the node chosen, bills them to the account chosen, or both, but needs one", () => {
    expect(initialValues("move")).toEqual({ node_id: "", personal_account_id: "" });
    expect(operationRequest("move", { node_id: "01NODE", personal_account_id: "" }, { kind: "filter", label: "vip" })).toEqual({
      type: "move",
      params: { node_id: "01NODE" },
      selection: { label: "vip" },
    });
    expect(
      operationRequest("move", { node_id: "", personal_account_id: "01ACCOUNT" }, { kind: "lines", msisdns: ["+79991000001"] })
        .params,
    ).toEqual({ personal_account_id: "01ACCOUNT" });
    expect(paramsComplete("move", { node_id: "", personal_account_id: " " })).toBe(false);
    expect(paramsComplete("move", { node_id: "", personal_account_id: "01ACCOUNT" })).toBe(true);
    expect(paramsComplete("move", { node_id: "01NODE", personal_account_id: "01ACCOUNT" })).toBe(true);
    expect(paramsComplete("block", { block_type: "voluntary" })).toBe(true);
  });

  it("counts the lines that have ended", () => {
    expect(ended({ total: 10, succeeded: 4, failed: 1, skipped: 2, pending: 2, in_progress: 1 })).toBe(7);
  });
});
