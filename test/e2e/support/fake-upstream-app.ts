import { FakeHermesServer, type FakeHermesOptions } from '../../fake-hermes';
import { destroyTestApp, startTestApp, type TestApp } from './test-app';

export interface FakeUpstreamApp {
  hermes: FakeHermesServer;
  app: TestApp;
  /** Closes the app, removes what it left behind, and stops the fake. */
  stop(): Promise<void>;
}

/** A test app whose `default` profile is a fresh fake Hermes server. */
export async function startWithFakeHermes(
  env: Record<string, string> = {},
  hermesOptions: FakeHermesOptions = {},
): Promise<FakeUpstreamApp> {
  const hermes = new FakeHermesServer(hermesOptions);
  const app = await startTestApp({ env: { HERMES_URL: await hermes.start(), ...env } });
  return {
    hermes,
    app,
    stop: async () => {
      await app.close();
      await destroyTestApp(app);
      await hermes.stop();
    },
  };
}
