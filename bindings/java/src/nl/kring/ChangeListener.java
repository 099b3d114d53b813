package nl.kring;

/** Receives {@link ChangeEvent}s on the executor given to {@link KringClient#addChangeListener}. */
@FunctionalInterface
public interface ChangeListener {
  void onChange(ChangeEvent event);
}
