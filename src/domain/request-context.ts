/** Who is asking, in transport-free terms: the HTTP layer fills it, the domain records it. */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}
