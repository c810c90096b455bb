// Types of labext/toc.js for the TypeScript tests (the extension itself is plain ES modules).

export declare const TRANSCRIPT_MIME: "application/vnd.nbchat.transcript+json";

export declare function isTranscript(output: { data?: unknown } | null | undefined): boolean;

export declare function keepTranscriptsOutOfToc(prototype: object | null | undefined): boolean;

export declare function tocPlugin(CodeCell: { prototype: object } | null | undefined): {
  id: string;
  description: string;
  autoStart: boolean;
  activate: () => void;
};
