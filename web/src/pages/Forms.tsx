import { useEffect, useState, type FormEvent } from "react";
import { api, type FillForm, type Form, type Forms as FormsData } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { useRouter } from "../router";
import { FileRefusals } from "./Attachments";
import { NodeSelect, numbersIn, useNodes } from "./NewTicket";
import { newIdempotencyKey, saveFile, uploadAll, type Refused } from "./tickets";

/** TK-3: the library of application forms: each filled in by SIMfleet with what it knows and the fields
 * typed here, downloaded as a PDF, or filed at once as a request by form with the PDF attached. */
export function Forms() {
  const { t, language } = useI18n();
  const [forms, setForms] = useState<FormsData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const { nodes, error: nodesError } = useNodes();

  useEffect(() => {
    let live = true;
    setForms(null);
    api.forms(language).then(
      (answer) => live && setForms(answer),
      (caught: unknown) => live && setError(caught),
    );
    return () => {
      live = false;
    };
  }, [language]);

  return (
    <main id="main" className="forms">
      <h1>{t("forms.title")}</h1>
      <p>{t("forms.intro")}</p>
      {forms && forms.language !== language && <p className="hint">{t("forms.otherLanguage")}</p>}
      <ErrorMessage error={error ?? nodesError} />
      {!forms && !error && <p>{t("common.loading")}</p>}
      {forms && (
        <ul className="form-list">
          {forms.items.map((form) => (
            <li key={form.code} className="card">
              <h2 lang={forms.language} translate="no">
                {form.title}
              </h2>
              <p lang={forms.language} translate="no">
                {form.description}
              </p>
              {open === form.code ? (
                <FormFill form={form} formsLanguage={forms.language} nodes={nodes} onClose={() => setOpen(null)} />
              ) : (
                <button type="button" onClick={() => setOpen(form.code)}>
                  {t("forms.fill")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

function FormFill({
  form,
  formsLanguage,
  nodes,
  onClose,
}: {
  form: Form;
  formsLanguage: string;
  nodes: ReturnType<typeof useNodes>["nodes"];
  onClose: () => void;
}) {
  const { t, language } = useI18n();
  const { navigate } = useRouter();
  const [nodeId, setNodeId] = useState("");
  const [lines, setLines] = useState("");
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [key] = useState(newIdempotencyKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [refused, setRefused] = useState<Refused[]>([]);
  const inputs = form.fields.filter((field) => field.source === "input");
  const known = form.fields.filter((field) => field.source !== "input" && field.source !== "lines");

  useEffect(() => {
    if (!nodeId && nodes.length) setNodeId(nodes[0]!.id);
  }, [nodes, nodeId]);

  const request = (): FillForm => ({
    node_id: nodeId,
    language: language,
    lines: form.needs_lines ? numbersIn(lines) : [],
    fields: Object.fromEntries(Object.entries(fields).filter(([, value]) => value.trim())),
  });
  const filename = `${form.code}.pdf`;

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setRefused([]);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const download = () =>
    run(async () => {
      const filled = await api.fillForm(form.code, request());
      saveFile(filled.blob, filled.filename ?? filename);
    });

  const file = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const filled = await api.fillForm(form.code, request());
      const ticket = await api.fileTicket(
        {
          node_id: nodeId,
          type: "request_by_form",
          topic: form.title.slice(0, 200),
          description: message.trim(),
          severity: "medium",
          priority: "normal",
          related: { lines: form.needs_lines ? numbersIn(lines) : [] },
        },
        key,
      );
      const pdf = new File([filled.blob], filled.filename ?? filename, { type: "application/pdf" });
      const uploaded = await uploadAll(ticket.id, [pdf]);
      if (uploaded.refused.length) {
        setRefused(uploaded.refused);
        return;
      }
      await api.addNote(ticket.id, t("forms.attachedNote"), uploaded.ids);
      navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    });
  };

  return (
    <form className="stacked form-fill" onSubmit={file} aria-label={t("forms.fillLabel")}>
      <NodeSelect nodes={nodes} value={nodeId} onChange={setNodeId} />
      {form.needs_lines && (
        <label>
          {t("forms.lines")}
          <textarea name="lines" dir="ltr" rows={2} value={lines} onChange={(e) => setLines(e.target.value)} />
          <small>{t("forms.linesHint")}</small>
        </label>
      )}
      {inputs.map((field) => (
        <label key={field.key}>
          <span lang={formsLanguage} translate="no">
            {field.label}
          </span>
          {field.choices.length ? (
            <select
              name={field.key}
              value={fields[field.key] ?? ""}
              onChange={(e) => setFields({ ...fields, [field.key]: e.target.value })}
            >
              <option value="">{t("forms.blank")}</option>
              {field.choices.map((choice) => (
                <option key={choice} value={choice} translate="no">
                  {choice}
                </option>
              ))}
            </select>
          ) : (
            <input
              name={field.key}
              maxLength={field.max_length ?? undefined}
              value={fields[field.key] ?? ""}
              onChange={(e) => setFields({ ...fields, [field.key]: e.target.value })}
            />
          )}
        </label>
      ))}
      {known.length > 0 && (
        <p className="hint">
          {t("forms.known")}{" "}
          <span lang={formsLanguage} translate="no">
            {known.map((field) => field.label).join(", ")}
          </span>
        </p>
      )}
      <div className="buttons">
        <button type="button" disabled={busy || !nodeId} onClick={() => void download()}>
          {t("forms.download")}
        </button>
        <button type="button" className="link" onClick={onClose}>
          {t("forms.close")}
        </button>
      </div>
      <fieldset>
        <legend>{t("forms.fileTitle")}</legend>
        <label>
          {t("forms.message")}
          <textarea
            name="message"
            required
            maxLength={10000}
            rows={3}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy || !nodeId}>
          {t("forms.file")}
        </button>
      </fieldset>
      <FileRefusals refused={refused} />
      <ErrorMessage error={error} />
    </form>
  );
}
