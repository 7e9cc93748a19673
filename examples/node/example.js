// Calling ruleiq-data from Node with @grpc/grpc-js and @grpc/proto-loader: health, create,
// get, a paged list, a stale etag decoded from grpc-status-details-bin, and the enum and
// Struct pitfalls of protobufjs. docs/clients.md explains each step.
//
//   RULEIQ_TARGET=localhost:50051 PROTOS=../../protos GOOGLEAPIS=/path/to/googleapis node example.js
//
// PROTOS is the repository's protos/ directory; GOOGLEAPIS a directory holding google/api,
// google/rpc and google/type (googleapis, or the googleapis-common-protos Python wheel).
// Prints one JSON object per step; exits non-zero on any unexpected failure.
"use strict";

const path = require("node:path");
const { randomUUID } = require("node:crypto");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const target = process.env.RULEIQ_TARGET || "localhost:50051";
const includeDirs = [
  process.env.PROTOS || path.join(__dirname, "..", "..", "protos"),
  process.env.GOOGLEAPIS,
  path.join(__dirname, "proto"),
].filter(Boolean);

// keepCase: field names as in the .proto (snake_case), as every other client sees them.
// enums: String gives names back; longs: String keeps int64 exact; defaults: false leaves
// unset fields out, so presence (optional fields) stays visible.
const options = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };
const definition = protoLoader.loadSync(
  [
    "ruleiq/data/v1/user.proto",
    "ruleiq/data/v1/assessment_session.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "grpc/health/v1/health.proto",
  ],
  { ...options, includeDirs },
);
const api = grpc.loadPackageDefinition(definition);
const v1 = api.ruleiq.data.v1;

const credentials = grpc.credentials.createInsecure();
const users = new v1.UserService(target, credentials);
const sessions = new v1.AssessmentSessionService(target, credentials);
const health = new api.grpc.health.v1.Health(target, credentials);

function deadline(seconds = 5) {
  return new Date(Date.now() + seconds * 1000);
}

// A unary call as a promise; always with a deadline.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: deadline() }, (error, reply) =>
      error ? reject(error) : resolve(reply),
    );
  });
}

// The google.rpc.Status in the grpc-status-details-bin trailer, with its details unpacked.
function richStatus(error) {
  const [bytes] = error.metadata ? error.metadata.get("grpc-status-details-bin") : [];
  if (!bytes) return null;
  const status = definition["google.rpc.Status"].deserialize(bytes);
  const details = status.details.map((any) => {
    const type = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    const message = definition[type];
    return { type, ...(message ? message.deserialize(any.value) : {}) };
  });
  const [requestId] = error.metadata.get("x-request-id");
  return { code: status.code, message: status.message, details, request_id: requestId };
}

function show(step, value) {
  console.log(JSON.stringify({ step, ...value }));
}

async function main() {
  for (const service of ["", "readiness"]) {
    const reply = await call(health, "Check", { service });
    show("health", { service, status: reply.status });
  }

  const tag = `node-${randomUUID().slice(0, 8)}-`;
  const created = [];
  for (const i of [1, 2, 3]) {
    // Send the same request_id again when retrying: the first result comes back.
    const user = await call(users, "CreateUser", {
      user: { email: `${tag}${i}@example.com`, full_name: "Node Caller" },
      request_id: randomUUID(),
    });
    created.push(user);
  }
  const fetched = await call(users, "GetUser", { id: created[0].id });
  show("get", { id: fetched.id, email: fetched.email, created_at: fetched.created_at });

  const pages = [];
  let request = { filter: `email > "${tag}" AND email < "${tag}z"`, order_by: "email", page_size: 2 };
  for (;;) {
    const page = await call(users, "ListUsers", request);
    pages.push(page.users.map((u) => u.email));
    if (!page.next_page_token) break;
    request = { ...request, page_token: page.next_page_token };
  }
  show("list", { pages });

  const mask = { paths: ["full_name"] };
  const user = created[0];
  await call(users, "UpdateUser", { user: { id: user.id, full_name: "Renamed" }, update_mask: mask, etag: user.etag });
  try {
    await call(users, "UpdateUser", { user: { id: user.id, full_name: "Lost" }, update_mask: mask, etag: user.etag });
    show("stale etag", { refused: false });
  } catch (error) {
    show("stale etag", { refused: true, code: grpc.status[error.code], status: richStatus(error) });
  }

  // Enums: only the full value name (or the number) is encoded. A short name such as
  // "COMPLETED" is not an error in protobufjs: the field is left out, so the server sees
  // UNSPECIFIED and the column default applies. Struct/ListValue/Timestamp are messages.
  const session = (status) => ({
    user_id: user.id,
    status,
    responses: { fields: { q1: { stringValue: "yes" } } },
    recommendations: { values: [{ stringValue: "enable MFA" }, { numberValue: 3 }] },
    completed_at: { seconds: "1780000000", nanos: 0 },
  });
  for (const status of ["ASSESSMENT_SESSION_STATUS_COMPLETED", 2, "COMPLETED"]) {
    const encoded = definition["ruleiq.data.v1.AssessmentSession"].serialize(session(status));
    const decoded = definition["ruleiq.data.v1.AssessmentSession"].deserialize(encoded);
    const made = await call(sessions, "CreateAssessmentSession", { assessment_session: session(status) });
    show("enum", {
      sent: status,
      encoded: decoded.status === undefined ? null : decoded.status,
      stored: made.status,
      responses: made.responses,
      recommendations: made.recommendations,
      completed_at: made.completed_at,
    });
  }

  // A Value key in snake_case is dropped by protobufjs: the server gets a Value with no
  // kind and refuses it, naming where it is, instead of storing null.
  const snake = session("ASSESSMENT_SESSION_STATUS_COMPLETED");
  snake.responses.fields.q2 = { string_value: "dropped" };
  try {
    await call(sessions, "CreateAssessmentSession", { assessment_session: snake });
    show("snake_case value", { refused: false });
  } catch (error) {
    show("snake_case value", { refused: true, code: grpc.status[error.code], status: richStatus(error) });
  }
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
