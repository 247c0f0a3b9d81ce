// The API client: every call of the console goes through here, so errors have one shape.

/** APIError is the API's error shape ({"error": {...}}) with the HTTP status. */
export class APIError extends Error {
  constructor(
    public status: number,
    public type: string,
    message: string,
    public line = 0,
    public column = 0,
    public limit = "",
  ) {
    super(message);
  }
}

const base = "/api/v1";

/** call sends a request to the API and decodes its JSON answer, or throws an APIError. */
export async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, signal, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(base + path, init);
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new APIError(0, "network", `cannot reach the server (${(e as Error).message}): is trailsql serve running?`);
  }
  const text = await res.text();
  let data: any = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new APIError(res.status, "response", `${method} ${path}: the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = data?.error ?? {};
    if (res.status === 401 && path !== "/whoami" && path !== "/login") {
      // The session ended (expired, or its token revoked): the console starts again at sign-in.
      location.reload();
    }
    throw new APIError(res.status, e.type ?? "http", e.message ?? `${method} ${path}: HTTP ${res.status}`, e.line ?? 0, e.column ?? 0, e.limit ?? "");
  }
  return data as T;
}

/** Column is a result column. */
export interface Column {
  name: string;
  type: string;
}

/** Stats are a query's scan figures. */
export interface Stats {
  files_read: number;
  files_total: number;
  bytes_read: number;
  bytes_total: number;
  rows_in_files_read: number;
  athena_price_usd: number;
  elapsed_ms: number;
}

/** Result is a query's JSON answer with shape=arrays. */
export interface Result {
  query_id?: string;
  columns: Column[];
  rows: unknown[][];
  truncated: boolean;
  row_count: number;
  stats?: Stats;
  commit?: number;
}

/** JobStatus is an asynchronous query's status. */
export interface JobStatus {
  id: string;
  state: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
  error?: { type: string; message: string; line?: number; column?: number };
  row_count?: number;
}

/** queryURL is the GET /query address that downloads a statement's answer in a format. */
export function queryURL(sql: string, format: "csv" | "json"): string {
  const p = new URLSearchParams({ sql, format });
  if (format === "json") p.set("_shape", "objects");
  return `${base}/query?${p}`;
}

/** SchemaColumn is a column of GET /schema, with its nested fields as dotted paths. */
export interface SchemaColumn {
  name: string;
  type: string;
  doc?: string;
  athena: boolean;
  fields?: SchemaColumn[];
}
