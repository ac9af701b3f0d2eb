-- Mailbox health: when a mailbox is paused, and why.

-- THE rule of whether a sender's mailbox is paused (health, authentication):
-- a paused mailbox gets no room at claim, no send at the gate, and the
-- dispatcher sends nothing from it. Only a person resumes it.
create or replace function mailbox_paused(p_sender text) returns boolean
language plpgsql stable as $$
begin
  return exists (select 1 from mailboxes where sender_id = p_sender and paused_at is not null);
end;
$$;
