export {
  FakeHermesServer,
  SCENARIO_HEADER,
  type CreateRunRequest,
  type FakeHermesOptions,
  type HistoryEntry,
  type RecordedRequest,
  type ScenarioSource,
} from './fake-hermes.server';
export {
  FakeRun,
  type RecordedEvent,
  type RunStatus,
  type RunStatusObject,
  type StreamState,
} from './fake-run';
export { GARBAGE_PAYLOADS } from './run-script';
export {
  DEFAULT_SCENARIO,
  PRESETS,
  ScenarioError,
  extractDirectives,
  parseScenarioJson,
  parseScenarioSpec,
  resolveScenario,
  type ApprovalScenario,
  type FailScenario,
  type Scenario,
  type ScenarioInput,
  type ToolCallInput,
  type ToolCallScenario,
} from './scenario';
export {
  SseParser,
  SseStream,
  openSse,
  type SseEnd,
  type SseItem,
  type SseOpenOptions,
} from './sse-reader';
export { formatText, pyRepr, pythonContentArray, type TextFormat } from './text-formats';
