import { useId, useRef } from "react";
import { api, type Attachment } from "../api/client";
import { Message, reasonKey, useI18n } from "../i18n";
import { ACCEPT, FILE_TYPES, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_NOTE, refusals, saveFile, type Refused } from "./tickets";

/** A size in the user's words and digits (bytes, KB, MB: the units from the catalogues). */
export function useFileSize(): (bytes: number) => string {
  const { t, language } = useI18n();
  const locale = language === "fa" ? "fa-IR" : language === "ru" ? "ru-RU" : "en-GB";
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  return (bytes) => {
    if (bytes < 1024) return t("ticket.sizeBytes", { n: number.format(bytes) });
    if (bytes < 1024 * 1024) return t("ticket.sizeKB", { n: number.format(bytes / 1024) });
    return t("ticket.sizeMB", { n: number.format(bytes / (1024 * 1024)) });
  };
}

/** The API's refusals of files, each with the file's name and the reason in the user's words. */
export function FileRefusals({ refused }: { refused: readonly Refused[] }) {
  const { t } = useI18n();
  if (!refused.length) return null;
  return (
    <ul role="alert" className="error file-refusals">
      {refused.map(({ file, reason }, i) => (
        <li key={i}>
          <bdi translate="no">{file.name}</bdi>: {t(reasonKey(reason))}
        </li>
      ))}
    </ul>
  );
}

/** Choosing the files of a note: the limits said up front, each file checked as it is chosen. */
export function FilePicker({ files, onChange }: { files: File[]; onChange: (files: File[]) => void }) {
  const { t, formatNumber } = useI18n();
  const size = useFileSize();
  const hint = useId();
  const input = useRef<HTMLInputElement>(null);
  const refused = refusals(files);
  return (
    <fieldset className="files">
      <legend>{t("ticket.files")}</legend>
      <p id={hint} className="hint">
        <Message
          id="ticket.filesLimits"
          values={{
            size: size(MAX_ATTACHMENT_BYTES),
            count: formatNumber(MAX_ATTACHMENTS_PER_NOTE),
            types: (
              <bdi dir="ltr" translate="no">
                {FILE_TYPES}
              </bdi>
            ),
          }}
        />
      </p>
      <label>
        {t("ticket.filesChoose")}
        <input
          ref={input}
          type="file"
          multiple
          accept={ACCEPT}
          aria-describedby={hint}
          onChange={(e) => {
            onChange([...files, ...Array.from(e.target.files ?? [])]);
            e.target.value = "";
          }}
        />
      </label>
      {files.length > 0 && (
        <ul className="chosen">
          {files.map((file, i) => (
            <li key={`${file.name}-${i}`}>
              <bdi translate="no">{file.name}</bdi> <span>({size(file.size)})</span>{" "}
              <button type="button" className="link" onClick={() => onChange(files.filter((_, j) => j !== i))}>
                {t("ticket.fileRemove")}
                <span className="visually-hidden" translate="no">
                  {" "}
                  {file.name}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <FileRefusals refused={refused} />
    </fieldset>
  );
}

/** A note's files, each downloaded through the API client (its session) when chosen. */
export function AttachmentList({
  ticketId,
  attachments,
  onError,
}: {
  ticketId: string;
  attachments: readonly Attachment[];
  onError: (error: unknown) => void;
}) {
  const { t } = useI18n();
  const size = useFileSize();
  if (!attachments.length) return null;
  return (
    <ul className="attachments" aria-label={t("ticket.attachments")}>
      {attachments.map((attachment) => (
        <li key={attachment.id}>
          <button
            type="button"
            className="link"
            onClick={async () => {
              onError(null);
              try {
                const file = await api.downloadAttachment(ticketId, attachment.id);
                saveFile(file.blob, file.filename ?? attachment.filename);
              } catch (caught) {
                onError(caught);
              }
            }}
          >
            <bdi translate="no">{attachment.filename}</bdi>
          </button>{" "}
          <span>({size(attachment.size)})</span>
        </li>
      ))}
    </ul>
  );
}
