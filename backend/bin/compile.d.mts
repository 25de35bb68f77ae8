/** Types of compile.mjs (plain JavaScript so that it runs without tsx). */
export declare function compiledBackendCache(): string;
export declare function backendSourceHash(files?: string[]): string;
export declare function compiledBackend(options?: { cache?: string }): Promise<{ dir: string; compiled: boolean }>;
