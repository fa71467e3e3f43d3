import { useEffect, useState } from "react";

/** The one-column layout's width (styles.css): the stage above the panel, the action bar sticky at the bottom. */
const PHONE_QUERY = "(max-width: 860px)";

/** Whether the page is in its phone layout now (false where the browser cannot say, as under jsdom). */
export function usePhoneLayout(): boolean {
  const [phone, setPhone] = useState(() => typeof window !== "undefined" && !!window.matchMedia?.(PHONE_QUERY).matches);
  useEffect(() => {
    const query = window.matchMedia?.(PHONE_QUERY);
    if (!query) return;
    const follow = () => setPhone(query.matches);
    follow();
    query.addEventListener("change", follow);
    return () => query.removeEventListener("change", follow);
  }, []);
  return phone;
}
