;;; bench/programs/binarytrees.lsp -- binary trees for ECL (bench/run.sh, part programs)
;;; The classic benchmark, as binarytrees.scm: a stretch tree of depth D+1, a
;;; long-lived tree of depth D kept to the end, and 2^(D-d+4) short-lived
;;; trees of each depth d = 4, 6, ..., D.  Nodes are conses (leaves: (nil)).
;;; Size: D = 18, or 10 when PROG_SIZE=smoke.  Prints one "check:" line.

(defparameter *max-depth* (if (equal (ext:getenv "PROG_SIZE") "smoke") 10 18))
(defconstant +min-depth+ 4)

(defun make-tree (d)
  (declare (fixnum d))
  (if (= d 0)
      (cons nil nil)
      (let ((d (1- d)))
        (cons (make-tree d) (make-tree d)))))

(defun check-tree (tr)
  (if (car tr)
      (+ 1 (check-tree (car tr)) (check-tree (cdr tr)))
      1))

(defun run (max-depth)
  (declare (fixnum max-depth))
  (let* ((total (check-tree (make-tree (1+ max-depth))))
         (long-lived (make-tree max-depth)))
    (loop for d fixnum from +min-depth+ to max-depth by 2
          do (let ((iterations (ash 1 (+ (- max-depth d) +min-depth+))))
               (loop repeat iterations
                     do (incf total (check-tree (make-tree d))))))
    (+ total (check-tree long-lived))))

(format t "check: binarytrees depth ~a total ~a~%" *max-depth* (run *max-depth*))
