import { api } from "./api/client";

/** UI-1: a user who sees at most this many lines gets the simplified view (a plain list, no table or filters). */
export const SMALL_CUSTOMER_LINES = 50;

/** True when the user's scope holds at most SMALL_CUSTOMER_LINES lines (one page of SMALL_CUSTOMER_LINES + 1 says). */
export async function isSmallCustomer(): Promise<boolean> {
  const page = await api.lines({ limit: SMALL_CUSTOMER_LINES + 1 });
  return page.items.length <= SMALL_CUSTOMER_LINES && !page.next_cursor;
}
