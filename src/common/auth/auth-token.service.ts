import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppConfig } from '../../config/app-config';
import { looseMode, makePrivateDir, octal } from '../files/private-files';
import { failureReason } from '../../startup/failure-reason';
import { StartupError } from '../../startup/startup-error';
import { sha256 } from './same-secret';

/**
 * Owns the shared secret that REST clients and sockets present, and the one check of it.
 * Without AUTH_TOKEN, a random token is generated on first start and kept (mode 0600) in
 * DATA_DIR so that it survives restarts.
 */
@Injectable()
export class AuthTokenService implements OnModuleInit {
  private readonly logger = new Logger(AuthTokenService.name);
  private digest: Buffer | undefined;

  constructor(private readonly config: AppConfig) {}

  get disabled(): boolean {
    return this.config.auth.disabled;
  }

  async onModuleInit(): Promise<void> {
    if (this.disabled) {
      this.logger.warn(
        '!!! AUTH_DISABLED is set: every REST route and socket is open to anyone who can reach this server !!!',
      );
      return;
    }
    const token = this.config.auth.token ?? (await this.tokenFromFile());
    this.digest = sha256(token);
  }

  /** Constant-time comparison; `true` for any value when auth is disabled. */
  verify(candidate: string | undefined | null): boolean {
    if (this.disabled) return true;
    if (!this.digest || typeof candidate !== 'string' || candidate.length === 0) return false;
    // Hashing first gives equal-length buffers, so the comparison leaks nothing about length.
    return timingSafeEqual(sha256(candidate), this.digest);
  }

  /** Extracts the token of an `Authorization: Bearer <token>` header value. */
  static bearer(header: string | undefined): string | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1];
  }

  /** A DATA_DIR where the token cannot be kept stops the startup with one line naming it. */
  private async tokenFromFile(): Promise<string> {
    try {
      return await this.loadOrCreateTokenFile();
    } catch (error) {
      const reason = failureReason(error);
      if (reason === undefined) throw error;
      throw StartupError.setting(
        'DATA_DIR',
        this.config.dataDir,
        `cannot keep the generated token in ${this.config.auth.tokenFile} (${reason})`,
        error,
      );
    }
  }

  private async loadOrCreateTokenFile(): Promise<string> {
    const file = this.config.auth.tokenFile;
    try {
      const stored = (await readFile(file, 'utf8')).trim();
      if (stored.length > 0) {
        this.logger.log(`Using the auth token stored in ${file}`);
        await this.warnIfReadableByOthers(file);
        return stored;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const token = randomBytes(32).toString('base64url');
    await makePrivateDir(dirname(file));
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    // An existing (empty) file keeps its mode through writeFile.
    await chmod(file, 0o600);
    this.logger.warn(`AUTH_TOKEN is not set: generated a token and stored it in ${file}`);
    return token;
  }

  /** The token is the only credential: anyone who can read the file can use the API. */
  private async warnIfReadableByOthers(file: string): Promise<void> {
    const mode = await looseMode(file);
    if (mode === undefined) return;
    this.logger.warn(
      `${file} is readable by other users (mode ${octal(mode)}); restrict it with: chmod 600 ${file}`,
    );
  }
}
