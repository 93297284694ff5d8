// List cleaning: upload a CSV to POST /v1/clean, a progress bar while it streams, download the cleaned list.
import { useState } from "preact/hooks";
import { CONSOLE_HEADER, qs } from "../api.ts";
import type { ApiErrorBody, CleanMode } from "../types.ts";
import { download, Field, Select } from "../ui.tsx";

interface Result {
  blob: Blob;
  name: string;
  rowsIn: number;
  rowsOut: number;
}

const countRows = async (b: Blob) =>
  Math.max(0, (await b.text()).split(/\r?\n/).filter((l) => l.trim()).length - 1);

export function Clean() {
  const [file, setFile] = useState<File | null>(null);
  const [stream, setStream] = useState("");
  const [mode, setMode] = useState<CleanMode>("remove");
  const [progress, setProgress] = useState<{ phase: string; value: number } | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setResult(null);
    setError(null);
    setProgress({ phase: "Uploading", value: 0 });
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/clean${qs({ stream: stream.trim(), mode })}`);
    xhr.setRequestHeader("content-type", "text/csv");
    xhr.setRequestHeader(CONSOLE_HEADER, "1");
    xhr.responseType = "blob";
    xhr.upload.onprogress = (ev) =>
      ev.lengthComputable && setProgress({ phase: "Uploading", value: ev.loaded / ev.total });
    xhr.onprogress = (ev) =>
      setProgress({ phase: "Receiving", value: ev.lengthComputable ? ev.loaded / ev.total : 1 });
    xhr.onerror = () => {
      setProgress(null);
      setError("the upload failed (network)");
    };
    xhr.onload = async () => {
      setProgress(null);
      const blob = xhr.response as Blob;
      if (xhr.status !== 200) {
        try {
          setError((JSON.parse(await blob.text()) as ApiErrorBody).error.message);
        } catch {
          setError(`${xhr.status} ${xhr.statusText}`);
        }
        return;
      }
      const name = file.name.replace(/\.csv$/i, "") + "-cleaned.csv";
      setResult({ blob, name, rowsIn: await countRows(file), rowsOut: await countRows(blob) });
    };
    xhr.send(file);
  };

  return (
    <section aria-labelledby="h-clean">
      <h1 id="h-clean">List cleaning</h1>
      <p>
        A CSV with a header row and an address column (<code>email</code>, <code>address</code>, …). The same
        list comes back without its suppressed addresses (or with their status, in mode <em>status</em>).
      </p>
      <form class="filters" onSubmit={submit}>
        <Field id="cl-file" label="CSV file">
          <input
            id="cl-file"
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </Field>
        <Field id="cl-stream" label="Stream (optional)">
          <input id="cl-stream" value={stream} onInput={(e) => setStream(e.currentTarget.value)} />
        </Field>
        <Select
          id="cl-mode"
          label="Mode"
          value={mode}
          options={[
            { value: "remove", label: "remove the suppressed" },
            { value: "status", label: "add a status column" },
          ]}
          onChange={setMode}
        />
        <div class="field buttons">
          <button type="submit" disabled={!file || !!progress}>
            Clean
          </button>
        </div>
      </form>
      {progress ? (
        <p>
          <label for="cl-progress">{progress.phase}</label>{" "}
          <progress id="cl-progress" max={1} value={progress.value}>
            {Math.round(progress.value * 100)}%
          </progress>
        </p>
      ) : null}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <div class="result" role="status">
          <p>
            {result.rowsIn} rows in, <strong data-rows-out={result.rowsOut}>{result.rowsOut}</strong> rows
            out.
          </p>
          <button type="button" onClick={() => download(result.name, "text/csv", result.blob)}>
            Download {result.name}
          </button>
        </div>
      ) : null}
    </section>
  );
}
